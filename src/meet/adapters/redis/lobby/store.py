"""``LobbyStore`` on Redis: one hash, two sorted sets and a counter per room (``keys``), changed only by
the Lua programs (``scripts``), entries and events in the ``codec``'s shape.

Every operation is O(log n) plus the size of what it returns; expired entries are purged at the start
of each script, a bounded number at a time. Nothing ever enumerates keys. A knock or a poll is one
script call: its rate limit and the bars are checked inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.bars import CACHE_TTL_MS, RedisRoomBars, ms
from meet.adapters.redis.lobby.codec import EntryWire, decode_entry
from meet.adapters.redis.lobby.keys import LobbyKeys, room_keys
from meet.domain.conference.bars import BarReason
from meet.domain.conference.door import SEAT_HOLD_SECONDS, DoorRefusal
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import (
    PASSED,
    DecisionResult,
    GateResult,
    KnockGate,
    KnockResult,
    LobbyEntry,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.rooms.model import SfuRoomName

ADMIT_ALL_PER_MESSAGE = 500
SEAT_MS = SEAT_HOLD_SECONDS * 1000
_DOOR = {refusal.value.encode(): refusal for refusal in DoorRefusal}


def _room_ttl(timeouts: LobbyTimeouts) -> int:
    # Whole-room keys outlive their longest entry, so an abandoned room disappears by itself.
    return (timeouts.longest + 60) * 1000


def _gate(gate: KnockGate) -> scripts.Gate:
    return scripts.Gate(
        limit=gate.rate_limit,
        window=gate.window_seconds * 1000,
        identities=gate.identities,
        stamp=gate.room_stamp,
        admin=gate.admin,
        capacity=gate.capacity,
        by=gate.by,
    )


def _gate_result(answer: list[Any]) -> GateResult | None:
    """None when the gate passed (a cold cache is the caller's to load)."""
    kind = answer[0]
    if kind == b"limited":
        return GateResult(retry_after=max(1, -(-int(answer[1]) // 1000)))
    if kind == b"barred":
        return GateResult(barred=True)
    if kind == b"stale":
        return GateResult(stale=True)
    if kind in _DOOR:
        return GateResult(door=_DOOR[kind])
    return None


class RedisLobbyStore:
    """The lobby on one Redis server, or on a Redis Cluster with ``sharded=True`` (events by SPUBLISH)."""

    def __init__(self, client: RedisClient, bars: RedisRoomBars, *, sharded: bool = False) -> None:
        self._bars = bars
        self._knock = scripts.Program(client, scripts.Knock, sharded=sharded)
        self._gate = scripts.Program(client, scripts.PassGate, sharded=sharded)
        self._touch = scripts.Program(client, scripts.Touch, sharded=sharded)
        self._refresh = scripts.Program(client, scripts.Refresh, sharded=sharded)
        self._decide = scripts.Program(client, scripts.Decide, sharded=sharded)
        self._admit_all = scripts.Program(client, scripts.AdmitAll, sharded=sharded)
        self._waiting = scripts.Program(client, scripts.Waiting, sharded=sharded)
        self._revoke = scripts.Program(client, scripts.Revoke, sharded=sharded)
        self._clear = scripts.Program(client, scripts.Clear, sharded=sharded)

    async def _gated(
        self, program: scripts.Program[scripts.A], room: SfuRoomName, gate: KnockGate, now: datetime, args: scripts.A
    ) -> Any:
        """Run a gated script; a cold bars cache is loaded from the ledger and the script run again."""
        keys = LobbyKeys.of(room).gated(gate.rate_bucket)
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await program(keys, args)
            if answer[0] != b"cold":
                return answer
            await self._bars.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")

    async def knock(
        self, room: SfuRoomName, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts, gate: KnockGate
    ) -> KnockResult:
        args = scripts.Knock(
            participant_id=entry.participant_id,
            entry=EntryWire.of(entry),
            now=ms(now),
            waiting_ttl=timeouts.waiting * 1000,
            room_ttl=_room_ttl(timeouts),
            gate=_gate(gate),
            suspended=gate.sent_back,
        )
        answer = await self._gated(self._knock, room, gate, now, args)
        refused = _gate_result(answer)
        if refused is not None:
            return KnockResult(entry, created=False, gate=refused)
        return KnockResult(decode_entry(answer[1]), created=bool(answer[2]))

    async def pass_gate(self, room: SfuRoomName, gate: KnockGate, now: datetime) -> GateResult:
        args = scripts.PassGate(now=ms(now), gate=_gate(gate))
        return _gate_result(await self._gated(self._gate, room, gate, now, args)) or PASSED

    async def touch(
        self, room: SfuRoomName, participant_id: str, now: datetime, timeouts: LobbyTimeouts
    ) -> LobbyEntry | None:
        args = scripts.Touch(
            participant_id=participant_id,
            now=ms(now),
            waiting_ttl=timeouts.waiting * 1000,
            room_ttl=_room_ttl(timeouts),
        )
        async with unavailable_as(LobbyUnavailable):
            raw = await self._touch(room_keys(room), args)
        return decode_entry(raw) if raw else None

    async def refresh(
        self, room: SfuRoomName, participant_ids: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        args = scripts.Refresh(
            now=ms(now),
            waiting_ttl=timeouts.waiting * 1000,
            room_ttl=_room_ttl(timeouts),
            participant_ids=participant_ids,
        )
        async with unavailable_as(LobbyUnavailable):
            await self._refresh(room_keys(room), args)

    async def decide(
        self,
        room: SfuRoomName,
        participant_id: str,
        *,
        allow: bool,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
        capacity: int = 0,
    ) -> DecisionResult | None:
        status = LobbyStatus.ACCEPTED if allow else LobbyStatus.DENIED
        args = scripts.Decide(
            participant_id=participant_id,
            status=status.value,
            at=now.isoformat(),
            by=decided_by,
            now=ms(now),
            ttl=timeouts.for_status(status) * 1000,
            room_ttl=_room_ttl(timeouts),
            cache_ttl=CACHE_TTL_MS,
            capacity=capacity,
            seat_ms=SEAT_MS,
        )
        async with unavailable_as(LobbyUnavailable):
            result = await self._decide(room_keys(room), args)
        if not result:
            return None
        if result == b"full":
            current = await self.touch(room, participant_id, now, timeouts)
            return DecisionResult(current, changed=False, full=True) if current else None
        raw, changed = result
        decided = DecisionResult(decode_entry(raw), changed=bool(changed))
        if decided.entry.status is LobbyStatus.DENIED and decided.entry.decided_at is not None:
            # The cache holds the block already (same script); the ledger keeps it through a Redis restart.
            until = decided.entry.decided_at + timedelta(seconds=timeouts.denied)
            await self._bars.remember(room, participant_id, until, BarReason.DENIED)
        return decided

    async def admit_all(
        self, room: SfuRoomName, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts, capacity: int = 0
    ) -> int:
        args = scripts.AdmitAll(
            at=now.isoformat(),
            by=decided_by,
            now=ms(now),
            ttl=timeouts.accepted * 1000,
            room_ttl=_room_ttl(timeouts),
            per_message=ADMIT_ALL_PER_MESSAGE,
            capacity=capacity,
            seat_ms=SEAT_MS,
        )
        async with unavailable_as(LobbyUnavailable):
            return int(await self._admit_all(room_keys(room), args))

    async def waiting(
        self, room: SfuRoomName, *, limit: int, after: int | None, now: datetime, stamp: str | None = None
    ) -> WaitingPage:
        lower = f"({after}" if after is not None else "-inf"
        args = scripts.Waiting(now=ms(now), after=lower, limit=limit, stamp=stamp)
        async with unavailable_as(LobbyUnavailable):
            answer = await self._waiting(LobbyKeys.of(room).stamped(), args)
        if answer == b"stale":
            return WaitingPage(entries=(), count=0, next_cursor=None, stale=True)
        count, found = answer
        entries = tuple(decode_entry(raw) for raw in found if raw)
        page = entries[:limit]
        next_cursor = page[-1].position if len(entries) > limit else None
        return WaitingPage(entries=page, count=int(count), next_cursor=next_cursor)

    async def revoke(self, room: SfuRoomName, participant_id: str) -> bool:
        async with unavailable_as(LobbyUnavailable):
            return bool(await self._revoke(room_keys(room), scripts.Revoke(participant_id=participant_id)))

    async def clear(self, room: SfuRoomName) -> None:
        async with unavailable_as(LobbyUnavailable):
            await self._clear(room_keys(room), scripts.Clear())
