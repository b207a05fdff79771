"""The lobby in Redis: one hash, two sorted sets and a counter per room, changed only by Lua scripts.

Keys of a room share the Redis Cluster hash tag ``{<room>}``:

- ``meet:lobby:{room}:entries``  HASH participant id -> entry JSON
- ``meet:lobby:{room}:waiting``  ZSET participant id scored by arrival position (the waiting list)
- ``meet:lobby:{room}:expiry``   ZSET participant id scored by the instant (ms) the entry expires
- ``meet:lobby:{room}:position`` counter giving each knock its arrival position

Every operation is O(log n) plus the size of what it returns; expired entries are purged at
the start of each script, a bounded number at a time. Nothing ever enumerates keys.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import (
    DecisionResult,
    KnockResult,
    LobbyEntry,
    LobbyEventType,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)

ScriptArgs = list[str | int]

_PRELUDE = """
local entries, waiting, expiry, position, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local function purge(now)
  local gone = redis.call('ZRANGEBYSCORE', expiry, '-inf', now, 'LIMIT', 0, 500)
  if #gone == 0 then return end
  redis.call('HDEL', entries, unpack(gone))
  redis.call('ZREM', waiting, unpack(gone))
  redis.call('ZREM', expiry, unpack(gone))
  for _, id in ipairs(gone) do
    redis.call('PUBLISH', channel, '{"type":"left","participant_id":"' .. id .. '"}')
  end
end
local function keep(room_ttl)
  redis.call('PEXPIRE', entries, room_ttl)
  redis.call('PEXPIRE', waiting, room_ttl)
  redis.call('PEXPIRE', expiry, room_ttl)
  redis.call('PEXPIRE', position, room_ttl)
end
local function decide(id, status, at, by, now, ttl)
  local e = cjson.decode(redis.call('HGET', entries, id))
  e.status = status
  e.decided_at = at
  e.decided_by = by
  local s = cjson.encode(e)
  redis.call('HSET', entries, id, s)
  redis.call('ZREM', waiting, id)
  redis.call('ZADD', expiry, now + ttl, id)
  redis.call('PUBLISH', channel, '{"type":"decided","participant_id":"' .. id .. '","entry":' .. s .. '}')
  return s
end
"""

_KNOCK = (
    _PRELUDE
    + """
local id, now, waiting_ttl, room_ttl = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
purge(now)
local current = redis.call('HGET', entries, id)
if current then
  if redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', expiry, now + waiting_ttl, id)
    keep(room_ttl)
  end
  return {current, 0}
end
local e = cjson.decode(ARGV[2])
e.position = redis.call('INCR', position)
local s = cjson.encode(e)
redis.call('HSET', entries, id, s)
redis.call('ZADD', waiting, e.position, id)
redis.call('ZADD', expiry, now + waiting_ttl, id)
keep(room_ttl)
redis.call('PUBLISH', channel, '{"type":"knocked","participant_id":"' .. id .. '","entry":' .. s .. '}')
return {s, 1}
"""
)

_TOUCH = (
    _PRELUDE
    + """
local id, now, waiting_ttl, room_ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
purge(now)
local current = redis.call('HGET', entries, id)
if current and redis.call('ZSCORE', waiting, id) then
  redis.call('ZADD', expiry, now + waiting_ttl, id)
  keep(room_ttl)
end
return current
"""
)

_DECIDE = (
    _PRELUDE
    + """
local id, status, at, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, ttl, room_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
purge(now)
local current = redis.call('HGET', entries, id)
if not current then return false end
if not redis.call('ZSCORE', waiting, id) then return {current, 0} end
local s = decide(id, status, at, by, now, ttl)
keep(room_ttl)
return {s, 1}
"""
)

_ADMIT_ALL = (
    _PRELUDE
    + """
local at, by, now, ttl, room_ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
purge(now)
local ids = redis.call('ZRANGE', waiting, 0, -1)
for _, id in ipairs(ids) do decide(id, 'accepted', at, by, now, ttl) end
if #ids > 0 then keep(room_ttl) end
return #ids
"""
)

_WAITING = (
    _PRELUDE
    + """
local now, after, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
purge(now)
local ids = redis.call('ZRANGEBYSCORE', waiting, after, '+inf', 'LIMIT', 0, limit + 1)
local found = {}
if #ids > 0 then found = redis.call('HMGET', entries, unpack(ids)) end
return {redis.call('ZCARD', waiting), found}
"""
)

_REVOKE = (
    _PRELUDE
    + """
local id = ARGV[1]
if redis.call('HDEL', entries, id) == 0 then return 0 end
redis.call('ZREM', waiting, id)
redis.call('ZREM', expiry, id)
redis.call('PUBLISH', channel, '{"type":"left","participant_id":"' .. id .. '"}')
return 1
"""
)

_CLEAR = (
    _PRELUDE
    + """
redis.call('DEL', entries, waiting, expiry, position)
redis.call('PUBLISH', channel, '{"type":"cleared"}')
return 1
"""
)


def room_keys(room: str) -> list[str]:
    prefix = f"meet:lobby:{{{room}}}"
    return [f"{prefix}:entries", f"{prefix}:waiting", f"{prefix}:expiry", f"{prefix}:position", events_channel(room)]


def events_channel(room: str) -> str:
    return f"meet:lobby:{{{room}}}:events"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def encode_entry(entry: LobbyEntry) -> str:
    return json.dumps(
        {
            "participant_id": entry.participant_id,
            "username": entry.username,
            "color": entry.color,
            "status": entry.status.value,
            "requested_at": entry.requested_at.isoformat(),
            "decided_at": entry.decided_at.isoformat() if entry.decided_at else None,
            "decided_by": entry.decided_by,
            "position": entry.position,
        },
        separators=(",", ":"),
    )


def decode_entry(raw: bytes | str | dict[str, Any]) -> LobbyEntry:
    data = raw if isinstance(raw, dict) else json.loads(raw)
    return LobbyEntry(
        participant_id=data["participant_id"],
        username=data["username"],
        color=data["color"],
        status=LobbyStatus(data["status"]),
        requested_at=datetime.fromisoformat(data["requested_at"]),
        decided_at=datetime.fromisoformat(data["decided_at"]) if data.get("decided_at") else None,
        decided_by=data.get("decided_by") or None,
        position=int(data.get("position") or 0),
    )


def _scripts(*, sharded: bool) -> tuple[str, ...]:
    scripts = (_KNOCK, _TOUCH, _DECIDE, _ADMIT_ALL, _WAITING, _REVOKE, _CLEAR)
    if not sharded:
        return scripts
    # Sharded pub/sub: on a cluster, SPUBLISH reaches only the shard that owns the channel's slot (the
    # room's: the channel carries the room's hash tag and is one of the script's KEYS), where PUBLISH
    # would be broadcast over the cluster bus to every node.
    return tuple(
        script.replace("redis.call('PUBLISH', channel,", "redis.call('SPUBLISH', channel,") for script in scripts
    )


class RedisLobbyStore:
    """The lobby on one Redis server, or on a Redis Cluster with ``sharded=True`` (events by SPUBLISH)."""

    def __init__(self, client: RedisClient, *, sharded: bool = False) -> None:
        self._client = client
        knock, touch, decide, admit_all, waiting, revoke, clear = _scripts(sharded=sharded)
        self._knock = client.register_script(knock)
        self._touch = client.register_script(touch)
        self._decide = client.register_script(decide)
        self._admit_all = client.register_script(admit_all)
        self._waiting = client.register_script(waiting)
        self._revoke = client.register_script(revoke)
        self._clear = client.register_script(clear)

    @staticmethod
    def _room_ttl(timeouts: LobbyTimeouts) -> int:
        # Whole-room keys outlive their longest entry, so an abandoned room disappears by itself.
        return (timeouts.longest + 60) * 1000

    async def knock(self, room: str, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts) -> KnockResult:
        args: ScriptArgs = [
            entry.participant_id,
            encode_entry(entry),
            _ms(now),
            timeouts.waiting * 1000,
            self._room_ttl(timeouts),
        ]
        async with unavailable_as(LobbyUnavailable):
            raw, created = await self._knock(keys=room_keys(room), args=args)
        return KnockResult(decode_entry(raw), created=bool(created))

    async def touch(self, room: str, participant_id: str, now: datetime, timeouts: LobbyTimeouts) -> LobbyEntry | None:
        args: ScriptArgs = [participant_id, _ms(now), timeouts.waiting * 1000, self._room_ttl(timeouts)]
        async with unavailable_as(LobbyUnavailable):
            raw = await self._touch(keys=room_keys(room), args=args)
        return decode_entry(raw) if raw else None

    async def decide(
        self,
        room: str,
        participant_id: str,
        *,
        allow: bool,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
    ) -> DecisionResult | None:
        status = LobbyStatus.ACCEPTED if allow else LobbyStatus.DENIED
        args: ScriptArgs = [
            participant_id,
            status.value,
            now.isoformat(),
            decided_by,
            _ms(now),
            timeouts.for_status(status) * 1000,
            self._room_ttl(timeouts),
        ]
        async with unavailable_as(LobbyUnavailable):
            result = await self._decide(keys=room_keys(room), args=args)
        if not result:
            return None
        raw, changed = result
        return DecisionResult(decode_entry(raw), changed=bool(changed))

    async def admit_all(self, room: str, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts) -> int:
        args: ScriptArgs = [
            now.isoformat(),
            decided_by,
            _ms(now),
            timeouts.accepted * 1000,
            self._room_ttl(timeouts),
        ]
        async with unavailable_as(LobbyUnavailable):
            return int(await self._admit_all(keys=room_keys(room), args=args))

    async def waiting(self, room: str, *, limit: int, after: int | None, now: datetime) -> WaitingPage:
        lower = f"({after}" if after is not None else "-inf"
        async with unavailable_as(LobbyUnavailable):
            count, found = await self._waiting(keys=room_keys(room), args=[_ms(now), lower, limit])
        entries = tuple(decode_entry(raw) for raw in found if raw)
        page = entries[:limit]
        next_cursor = page[-1].position if len(entries) > limit else None
        return WaitingPage(entries=page, count=int(count), next_cursor=next_cursor)

    async def revoke(self, room: str, participant_id: str) -> bool:
        async with unavailable_as(LobbyUnavailable):
            return bool(await self._revoke(keys=room_keys(room), args=[participant_id]))

    async def clear(self, room: str) -> None:
        async with unavailable_as(LobbyUnavailable):
            await self._clear(keys=room_keys(room), args=[])


EVENT_TYPES = {event_type.value: event_type for event_type in LobbyEventType}
