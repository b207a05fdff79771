"""``LobbyStore`` on Redis: one hash, two sorted sets and a counter per room (``keys``), changed only by
the Lua programs (``scripts``), entries and events in the ``codec``'s shape.

Every operation is O(log n) plus the size of what it returns; expired entries are purged at the start
of each script, a bounded number at a time. Nothing ever enumerates keys. A knock or a poll is one
script call: its rate limit and the bars are checked inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.bars import CACHE_TTL_MS, RedisRoomBars, ms
from meet.adapters.redis.lobby.codec import EntryWire, decode_entry, decode_latest_message
from meet.adapters.redis.lobby.keys import LobbyKeys, room_keys
from meet.domain.conference.bars import BarReason
from meet.domain.conference.door import SEAT_HOLD_SECONDS, DoorRefusal
from meet.domain.lobby.errors import LobbyEntryNotFound, LobbyUnavailable
from meet.domain.lobby.model import (
    PASSED,
    DecisionResult,
    GateResult,
    KnockGate,
    KnockResult,
    LobbyEntry,
    LobbyMessage,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.whole_list import WholeWaitingList
from meet.domain.rooms.model import SfuRoomName

DECISIONS_PER_MESSAGE = 500  # admit-all and deny-all publish their decisions in batches of this many
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
        blocks=gate.blocks,
        admin=gate.admin,
        capacity=gate.capacity,
        by=gate.by,
    )


def _block(timeouts: LobbyTimeouts) -> scripts.Block:
    return scripts.Block(
        limit=timeouts.denials_before_block,
        window=timeouts.denial_window * 1000,
        block=timeouts.blocked * 1000,
        cache_ttl=CACHE_TTL_MS,
    )


def _with_message(entry: LobbyEntry, found: list[bytes | None] | None) -> LobbyEntry:
    message = decode_latest_message(found, entry.participant_id)
    return replace(entry, message=message) if message is not None else entry


def _denied_or(stored: LobbyEntry | None, offered: LobbyEntry) -> LobbyEntry:
    """What a barred knock shows: the participant's denied entry while it lasts (its reason), else the knock."""
    return stored if stored is not None and stored.status is LobbyStatus.DENIED else offered


def _texts(values: list[bytes]) -> tuple[str, ...]:
    return tuple(value.decode() for value in values)


def _gate_result(answer: list[Any]) -> GateResult | None:
    """None when the gate passed (a cold cache is the caller's to load)."""
    kind = answer[0]
    if kind == b"limited":
        return GateResult(retry_after=max(1, -(-int(answer[1]) // 1000)))
    if kind == b"barred":
        return GateResult(barred=True)
    if kind == b"stale":
        return GateResult(stale=True)
    if kind == b"blocked":
        return GateResult(blocked=True)
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
        self._deny_all = scripts.Program(client, scripts.DenyAll, sharded=sharded)
        self._message = scripts.Program(client, scripts.Message, sharded=sharded)
        self._waiting = scripts.Program(client, scripts.Waiting, sharded=sharded)
        self._revoke = scripts.Program(client, scripts.Revoke, sharded=sharded)
        self._clear = scripts.Program(client, scripts.Clear, sharded=sharded)
        self._whole_list = scripts.Program(client, scripts.WholeList, sharded=sharded)

    async def _gated(
        self, program: scripts.Program[scripts.A], room: SfuRoomName, gate: KnockGate, now: datetime, args: scripts.A
    ) -> Any:
        """Run a gated script; a cold bars cache is loaded from the ledger and the script run again."""
        keys = LobbyKeys.of(room).controlled(gate.rate_bucket)
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
            stored = decode_entry(answer[1]) if refused.barred and len(answer) > 1 and answer[1] else None
            return KnockResult(_denied_or(stored, entry), created=False, gate=refused)
        return KnockResult(_with_message(decode_entry(answer[1]), answer[3]), created=bool(answer[2]))

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
            raw, found = await self._touch(LobbyKeys.of(room).controlled(), args)
        return _with_message(decode_entry(raw), found) if raw else None

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
        reason: str | None = None,
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
            block=_block(timeouts),
            reason=None if allow else reason,
            capacity=capacity,
            seat_ms=SEAT_MS,
        )
        async with unavailable_as(LobbyUnavailable):
            result = await self._decide(LobbyKeys.of(room).controlled(), args)
        if not result:
            return None
        if result == b"full":
            current = await self.touch(room, participant_id, now, timeouts)
            return DecisionResult(current, changed=False, full=True) if current else None
        raw, changed, *rest = result
        blocked = _texts(rest[0]) if rest else ()
        decided = DecisionResult(decode_entry(raw), changed=bool(changed), blocked=blocked)
        if decided.entry.status is LobbyStatus.DENIED and decided.entry.decided_at is not None:
            # The cache holds the bar and any block already (same script); the ledger keeps them through a
            # Redis restart.
            until = decided.entry.decided_at + timedelta(seconds=timeouts.denied)
            await self._bars.remember(room, participant_id, until, BarReason.DENIED)
            await self._remember_blocks(room, blocked, now, timeouts)
        return decided

    async def _remember_blocks(
        self, room: SfuRoomName, blocked: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        """The blocks a denying script set in the cache, into the durable bars (one write)."""
        if blocked:
            await self._bars.remember_many(room, blocked, now + timedelta(seconds=timeouts.blocked), BarReason.BLOCKED)

    async def admit_all(
        self,
        room: SfuRoomName,
        *,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
        capacity: int = 0,
        stamp: str | None = None,
    ) -> int | None:
        args = scripts.AdmitAll(
            at=now.isoformat(),
            by=decided_by,
            now=ms(now),
            ttl=timeouts.accepted * 1000,
            room_ttl=_room_ttl(timeouts),
            per_message=DECISIONS_PER_MESSAGE,
            capacity=capacity,
            seat_ms=SEAT_MS,
            stamp=stamp,
        )
        async with unavailable_as(LobbyUnavailable):
            answer = await self._admit_all(LobbyKeys.of(room).stamped(), args)
        return None if answer == b"stale" else int(answer)

    async def deny_all(
        self, room: SfuRoomName, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts, reason: str | None = None
    ) -> int:
        args = scripts.DenyAll(
            at=now.isoformat(),
            by=decided_by,
            now=ms(now),
            ttl=timeouts.denied * 1000,
            room_ttl=_room_ttl(timeouts),
            cache_ttl=CACHE_TTL_MS,
            per_message=DECISIONS_PER_MESSAGE,
            block=_block(timeouts),
            reason=reason,
        )
        async with unavailable_as(LobbyUnavailable):
            count, denied, blocked = await self._deny_all(LobbyKeys.of(room).controlled(), args)
        # As for one denial: the cache holds the bars already; the ledger gets them in one write each.
        if denied:
            until = now + timedelta(seconds=timeouts.denied)
            await self._bars.remember_many(room, _texts(denied), until, BarReason.DENIED)
        await self._remember_blocks(room, _texts(blocked), now, timeouts)
        return int(count)

    async def message(
        self, room: SfuRoomName, message: LobbyMessage, *, limit: int, window_seconds: int, timeouts: LobbyTimeouts
    ) -> int | None:
        args = scripts.Message(
            text=message.text,
            sent_at=message.sent_at.isoformat(),
            now=ms(message.sent_at),
            limit=limit,
            window=window_seconds * 1000,
            room_ttl=_room_ttl(timeouts),
            by=message.sent_by or "",
            participant_id=message.participant_id,
        )
        async with unavailable_as(LobbyUnavailable):
            answer = await self._message(LobbyKeys.of(room).controlled(), args)
        if answer[0] == b"absent":
            raise LobbyEntryNotFound
        if answer[0] == b"limited":
            return max(1, -(-int(answer[1]) // 1000))
        return None

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
            await self._clear(LobbyKeys.of(room).controlled(), scripts.Clear())

    async def whole_waiting_list(
        self, room: SfuRoomName, *, now: datetime, stamp: str | None = None, known: str | None = None
    ) -> WholeWaitingList:
        args = scripts.WholeList(now=ms(now), stamp=stamp, known=known)
        async with unavailable_as(LobbyUnavailable):
            answer = await self._whole_list(LobbyKeys.of(room).stamped(), args)
        if answer == b"stale":
            return WholeWaitingList(version="", entries=None, stale=True)
        version = answer[0].decode()
        if len(answer) == 1:
            return WholeWaitingList(version, entries=None)
        return WholeWaitingList(version, entries=tuple(decode_entry(raw) for raw in answer[1] if raw))
