"""The lobby in Redis: one hash, two sorted sets and a counter per room, changed only by Lua scripts.

Keys of a room share the Redis Cluster hash tag ``{<room>}``:

- ``meet:lobby:{room}:entries``  HASH participant id -> entry JSON
- ``meet:lobby:{room}:waiting``  ZSET participant id scored by arrival position (the waiting list)
- ``meet:lobby:{room}:expiry``   ZSET participant id scored by the instant (ms) the entry expires
- ``meet:lobby:{room}:position`` counter giving each knock its arrival position
- ``meet:lobby:{room}:bars``     ZSET identity scored by the instant (ms) its bar ends (a removal's or a
  denial's), a cache of the durable ``BarLedger``; the member ``""`` marks it as loaded
- ``meet:lobby:{room}:rate:<bucket>`` counter of a knock rate limit's current window
- ``meet:lobby:{room}:stamp``    the room's stamp (``RoomStamps``), checked first by a knock's gate and
  by the waiting list (and by the join's check, ``adapters/redis/entry.py``)

Every operation is O(log n) plus the size of what it returns; expired entries are purged at
the start of each script, a bounded number at a time. Nothing ever enumerates keys. A knock or a
poll is one script call: its rate limit and the bars are checked inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import msgspec
from redis.commands.core import AsyncScript

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import (
    PASSED,
    DecisionResult,
    GateResult,
    KnockGate,
    KnockResult,
    LobbyEntry,
    LobbyEventType,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.ports import BarLedger

ScriptArgs = list[str | int]

_PRELUDE = """
local entries, waiting, expiry, position, channel, bars = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
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
local function bar(identity, until_ms, cache_ttl)
  local current = redis.call('ZSCORE', bars, identity)
  if not current or tonumber(current) < until_ms then redis.call('ZADD', bars, until_ms, identity) end
  if redis.call('PTTL', bars) < 0 then redis.call('PEXPIRE', bars, cache_ttl) end
end
local function record(id, status, at, by, now, ttl)
  local e = cjson.decode(redis.call('HGET', entries, id))
  e.status = status
  e.decided_at = at
  e.decided_by = by
  local s = cjson.encode(e)
  redis.call('HSET', entries, id, s)
  redis.call('ZREM', waiting, id)
  redis.call('ZADD', expiry, now + ttl, id)
  return s
end
-- The gate of a knock: nil when passed, else why not. ARGV[first] is the room's stamp the caller read
-- the room under ('' for none), ARGV[first + 1..] are the identities to check.
local function gate(rate, now, limit, window, first)
  local stamp = ARGV[first]
  if stamp ~= '' and redis.call('GET', KEYS[8]) ~= stamp then return {'stale'} end
  if #ARGV > first then
    if not redis.call('ZSCORE', bars, '') then return {'cold'} end
    redis.call('ZREMRANGEBYSCORE', bars, '-inf', now)
  end
  local n = redis.call('INCR', rate)
  if n == 1 then redis.call('PEXPIRE', rate, window) end
  if n > limit then
    local left = redis.call('PTTL', rate)
    if left < 0 then left = window end
    return {'limited', left}
  end
  for i = first + 1, #ARGV do
    if redis.call('ZSCORE', bars, ARGV[i]) then return {'barred'} end
  end
  return nil
end
"""

_KNOCK = (
    _PRELUDE
    + """
local id, now, waiting_ttl, room_ttl = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local refused = gate(KEYS[7], now, tonumber(ARGV[6]), tonumber(ARGV[7]), 8)
if refused then return refused end
purge(now)
local current = redis.call('HGET', entries, id)
if current then
  if redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', expiry, now + waiting_ttl, id)
    keep(room_ttl)
  end
  return {'ok', current, 0}
end
local e = cjson.decode(ARGV[2])
e.position = redis.call('INCR', position)
local s = cjson.encode(e)
redis.call('HSET', entries, id, s)
redis.call('ZADD', waiting, e.position, id)
redis.call('ZADD', expiry, now + waiting_ttl, id)
keep(room_ttl)
redis.call('PUBLISH', channel, '{"type":"knocked","participant_id":"' .. id .. '","entry":' .. s .. '}')
return {'ok', s, 1}
"""
)

_GATE = (
    _PRELUDE
    + """
local refused = gate(KEYS[7], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), 4)
if refused then return refused end
return {'ok'}
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

_REFRESH = (
    _PRELUDE
    + """
local now, waiting_ttl, room_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
purge(now)
local kept = false
for i = 4, #ARGV do
  local id = ARGV[i]
  if redis.call('ZSCORE', waiting, id) then
    redis.call('ZADD', expiry, now + waiting_ttl, id)
    kept = true
  elseif redis.call('HEXISTS', entries, id) == 0 then
    redis.call('PUBLISH', channel, '{"type":"left","participant_id":"' .. id .. '"}')
  end
end
if kept then keep(room_ttl) end
return 1
"""
)

_DECIDE = (
    _PRELUDE
    + """
local id, status, at, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, ttl, room_ttl, cache_ttl = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
purge(now)
local current = redis.call('HGET', entries, id)
if not current then return false end
if not redis.call('ZSCORE', waiting, id) then return {current, 0} end
local s = record(id, status, at, by, now, ttl)
if status == 'denied' then bar(id, now + ttl, cache_ttl) end
redis.call('PUBLISH', channel, '{"type":"decided","participant_id":"' .. id .. '","entry":' .. s .. '}')
keep(room_ttl)
return {s, 1}
"""
)

# One script call however many wait; the decisions go out a batch per message.
_ADMIT_ALL = (
    _PRELUDE
    + """
local at, by, now, ttl, room_ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local per_message = tonumber(ARGV[6])
purge(now)
local ids = redis.call('ZRANGE', waiting, 0, -1)
local batch = {}
for i, id in ipairs(ids) do
  batch[#batch + 1] = record(id, 'accepted', at, by, now, ttl)
  if #batch == per_message or i == #ids then
    redis.call('PUBLISH', channel, '{"type":"decided","entries":[' .. table.concat(batch, ',') .. ']}')
    batch = {}
  end
end
if #ids > 0 then keep(room_ttl) end
return #ids
"""
)

_WAITING = (
    _PRELUDE
    + """
local now, after, limit, stamp = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
if stamp ~= '' and redis.call('GET', KEYS[7]) ~= stamp then return 'stale' end
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

# The bars cache: loaded from the ledger (marked by the member '' at +inf, so a cache that was lost
# or evicted is seen as cold, never as "nobody barred"); written through on every bar.
_LOAD_BARS = (
    _PRELUDE
    + """
local cache_ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do bar(ARGV[i], tonumber(ARGV[i + 1]), cache_ttl) end
redis.call('ZADD', bars, '+inf', '')
redis.call('PEXPIRE', bars, cache_ttl)
return 1
"""
)

_BAR = (
    _PRELUDE
    + """
bar(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
return 1
"""
)

_IS_BARRED = (
    _PRELUDE
    + """
if not redis.call('ZSCORE', bars, '') then return 'cold' end
local until_ms = redis.call('ZSCORE', bars, ARGV[1])
if until_ms and tonumber(until_ms) > tonumber(ARGV[2]) then return 1 end
return 0
"""
)

BARS_CACHE_TTL_MS = 3600 * 1000
ADMIT_ALL_PER_MESSAGE = 500


def room_keys(room: str) -> list[str]:
    prefix = f"meet:lobby:{{{room}}}"
    return [
        f"{prefix}:entries",
        f"{prefix}:waiting",
        f"{prefix}:expiry",
        f"{prefix}:position",
        events_channel(room),
        f"{prefix}:bars",
    ]


def gate_keys(room: str, gate: KnockGate) -> list[str]:
    return [*room_keys(room), f"meet:lobby:{{{room}}}:rate:{gate.rate_bucket}", stamp_key(room)]


def stamp_key(room: str) -> str:
    return f"meet:lobby:{{{room}}}:stamp"


def events_channel(room: str) -> str:
    return f"meet:lobby:{{{room}}}:events"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def encode_entry(entry: LobbyEntry) -> str:
    return msgspec.json.encode(
        {
            "participant_id": entry.participant_id,
            "username": entry.username,
            "color": entry.color,
            "status": entry.status.value,
            "requested_at": entry.requested_at.isoformat(),
            "decided_at": entry.decided_at.isoformat() if entry.decided_at else None,
            "decided_by": entry.decided_by,
            "position": entry.position,
        }
    ).decode()


def decode_entry(raw: bytes | str | dict[str, Any]) -> LobbyEntry:
    data = raw if isinstance(raw, dict) else msgspec.json.decode(raw)
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


class RedisBars:
    """The room's bars in Redis (``meet:lobby:{room}:bars``), a cache of the durable ``BarLedger``.

    A cold cache (never loaded, or lost with a Redis restart) is filled from the ledger before it
    answers; every bar is written to the ledger first, then to the cache.
    """

    def __init__(self, client: RedisClient, ledger: BarLedger) -> None:
        self._ledger = ledger
        self._load = client.register_script(_LOAD_BARS)
        self._bar = client.register_script(_BAR)
        self._is_barred = client.register_script(_IS_BARRED)

    async def load(self, room: str, now: datetime) -> None:
        active = await self._ledger.active(room, now)
        args: ScriptArgs = [BARS_CACHE_TTL_MS]
        for identity, until in active.items():
            args += [identity, _ms(until)]
        async with unavailable_as(LobbyUnavailable):
            await self._load(keys=room_keys(room), args=args)

    async def remember(self, room: str, identity: str, until: datetime) -> None:
        """Only the durable copy (the caller's script wrote the cache already)."""
        await self._ledger.record(room, identity, until)

    async def bar(self, room: str, identity: str, until: datetime) -> None:
        await self._ledger.record(room, identity, until)
        async with unavailable_as(LobbyUnavailable):
            await self._bar(keys=room_keys(room), args=[identity, _ms(until), BARS_CACHE_TTL_MS])

    async def is_barred(self, room: str, identity: str, now: datetime) -> bool:
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await self._is_barred(keys=room_keys(room), args=[identity, _ms(now)])
            if answer != b"cold":
                return bool(answer)
            await self.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")


def _gate_result(answer: list[Any]) -> GateResult | None:
    """None when the gate passed; raises nothing on a cold cache (the caller loads it and retries)."""
    kind = answer[0]
    if kind == b"limited":
        return GateResult(retry_after=max(1, -(-int(answer[1]) // 1000)))
    if kind == b"barred":
        return GateResult(barred=True)
    if kind == b"stale":
        return GateResult(stale=True)
    return None


def _sharded(script: str, *, sharded: bool) -> str:
    # Sharded pub/sub: on a cluster, SPUBLISH reaches only the shard that owns the channel's slot (the
    # room's: the channel carries the room's hash tag and is one of the script's KEYS), where PUBLISH
    # would be broadcast over the cluster bus to every node.
    return script.replace("redis.call('PUBLISH', channel,", "redis.call('SPUBLISH', channel,") if sharded else script


class RedisLobbyStore:
    """The lobby on one Redis server, or on a Redis Cluster with ``sharded=True`` (events by SPUBLISH)."""

    def __init__(self, client: RedisClient, bars: RedisBars, *, sharded: bool = False) -> None:
        self._client = client
        self._bars = bars

        def script(source: str) -> AsyncScript:
            return client.register_script(_sharded(source, sharded=sharded))

        self._knock = script(_KNOCK)
        self._gate = script(_GATE)
        self._touch = script(_TOUCH)
        self._refresh = script(_REFRESH)
        self._decide = script(_DECIDE)
        self._admit_all = script(_ADMIT_ALL)
        self._waiting = script(_WAITING)
        self._revoke = script(_REVOKE)
        self._clear = script(_CLEAR)

    @staticmethod
    def _room_ttl(timeouts: LobbyTimeouts) -> int:
        # Whole-room keys outlive their longest entry, so an abandoned room disappears by itself.
        return (timeouts.longest + 60) * 1000

    async def _gated(self, script: AsyncScript, room: str, gate: KnockGate, now: datetime, args: ScriptArgs) -> Any:
        """Run a gated script; a cold bars cache is loaded from the ledger and the script run again."""
        keys, args = gate_keys(room, gate), [*args, gate.room_stamp or "", *gate.identities]
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await script(keys=keys, args=args)
            if answer[0] != b"cold":
                return answer
            await self._bars.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")

    async def knock(
        self, room: str, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts, gate: KnockGate
    ) -> KnockResult:
        args: ScriptArgs = [
            entry.participant_id,
            encode_entry(entry),
            _ms(now),
            timeouts.waiting * 1000,
            self._room_ttl(timeouts),
            gate.rate_limit,
            gate.window_seconds * 1000,
        ]
        answer = await self._gated(self._knock, room, gate, now, args)
        refused = _gate_result(answer)
        if refused is not None:
            return KnockResult(entry, created=False, gate=refused)
        return KnockResult(decode_entry(answer[1]), created=bool(answer[2]))

    async def pass_gate(self, room: str, gate: KnockGate, now: datetime) -> GateResult:
        args: ScriptArgs = [_ms(now), gate.rate_limit, gate.window_seconds * 1000]
        return _gate_result(await self._gated(self._gate, room, gate, now, args)) or PASSED

    async def touch(self, room: str, participant_id: str, now: datetime, timeouts: LobbyTimeouts) -> LobbyEntry | None:
        args: ScriptArgs = [participant_id, _ms(now), timeouts.waiting * 1000, self._room_ttl(timeouts)]
        async with unavailable_as(LobbyUnavailable):
            raw = await self._touch(keys=room_keys(room), args=args)
        return decode_entry(raw) if raw else None

    async def refresh(self, room: str, participant_ids: Sequence[str], now: datetime, timeouts: LobbyTimeouts) -> None:
        args: ScriptArgs = [_ms(now), timeouts.waiting * 1000, self._room_ttl(timeouts), *participant_ids]
        async with unavailable_as(LobbyUnavailable):
            await self._refresh(keys=room_keys(room), args=args)

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
        ttl = timeouts.for_status(status)
        args: ScriptArgs = [
            participant_id,
            status.value,
            now.isoformat(),
            decided_by,
            _ms(now),
            ttl * 1000,
            self._room_ttl(timeouts),
            BARS_CACHE_TTL_MS,
        ]
        async with unavailable_as(LobbyUnavailable):
            result = await self._decide(keys=room_keys(room), args=args)
        if not result:
            return None
        raw, changed = result
        decided = DecisionResult(decode_entry(raw), changed=bool(changed))
        if decided.entry.status is LobbyStatus.DENIED and decided.entry.decided_at is not None:
            # The cache holds the block already (same script); the ledger keeps it through a Redis restart.
            until = decided.entry.decided_at + timedelta(seconds=timeouts.denied)
            await self._bars.remember(room, participant_id, until)
        return decided

    async def admit_all(self, room: str, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts) -> int:
        args: ScriptArgs = [
            now.isoformat(),
            decided_by,
            _ms(now),
            timeouts.accepted * 1000,
            self._room_ttl(timeouts),
            ADMIT_ALL_PER_MESSAGE,
        ]
        async with unavailable_as(LobbyUnavailable):
            return int(await self._admit_all(keys=room_keys(room), args=args))

    async def waiting(
        self, room: str, *, limit: int, after: int | None, now: datetime, stamp: str | None = None
    ) -> WaitingPage:
        lower = f"({after}" if after is not None else "-inf"
        args: ScriptArgs = [_ms(now), lower, limit, stamp or ""]
        async with unavailable_as(LobbyUnavailable):
            answer = await self._waiting(keys=[*room_keys(room), stamp_key(room)], args=args)
        if answer == b"stale":
            return WaitingPage(entries=(), count=0, next_cursor=None, stale=True)
        count, found = answer
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
