"""The lobby store, counted: knocks and decisions, whichever store (Redis or memory) serves the lobby."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.lobby.blocks import ADDRESS_BLOCK
from meet.domain.lobby.model import (
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
from meet.domain.lobby.ports import LobbyStore
from meet.domain.lobby.whole_list import WholeWaitingList
from meet.domain.rooms.model import SfuRoomName


class MeteredLobbyStore:
    """A ``LobbyStore`` that counts what ``inner`` did; every call and answer passes through unchanged."""

    def __init__(self, inner: LobbyStore, metrics: PrometheusMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def knock(
        self, room: SfuRoomName, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts, gate: KnockGate
    ) -> KnockResult:
        result = await self._inner.knock(room, entry, now, timeouts, gate)
        if result.gate.passed:
            self._metrics.knocked(new=result.created)
        elif result.gate.blocked:
            self._metrics.knock_refused("blocked")
        elif result.gate.door is not None:
            self._metrics.door_refused(result.gate.door.value)
        return result

    async def pass_gate(self, room: SfuRoomName, gate: KnockGate, now: datetime) -> GateResult:
        passed = await self._inner.pass_gate(room, gate, now)
        if passed.door is not None:
            self._metrics.door_refused(passed.door.value)
        return passed

    async def touch(
        self, room: SfuRoomName, participant_id: str, now: datetime, timeouts: LobbyTimeouts
    ) -> LobbyEntry | None:
        return await self._inner.touch(room, participant_id, now, timeouts)

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
        result = await self._inner.decide(
            room,
            participant_id,
            allow=allow,
            decided_by=decided_by,
            now=now,
            timeouts=timeouts,
            reason=reason,
            capacity=capacity,
        )
        if result is not None:
            if result.full:
                self._metrics.door_refused("full")
            elif not result.changed:
                self._metrics.decided("already_decided")
            else:
                self._metrics.decided("accepted" if result.entry.status is LobbyStatus.ACCEPTED else "denied")
            self._count_blocks(result.blocked)
        return result

    def _count_blocks(self, blocked: Sequence[str]) -> None:
        for block in blocked:
            self._metrics.blocked("address" if block.startswith(ADDRESS_BLOCK) else "participant")

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
        admitted = await self._inner.admit_all(
            room, decided_by=decided_by, now=now, timeouts=timeouts, capacity=capacity, stamp=stamp
        )
        if admitted is not None:
            self._metrics.decided("accepted", admitted)
        return admitted

    async def deny_all(
        self, room: SfuRoomName, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts, reason: str | None = None
    ) -> int:
        denied = await self._inner.deny_all(room, decided_by=decided_by, now=now, timeouts=timeouts, reason=reason)
        self._metrics.decided("denied", denied)
        return denied

    async def message(
        self, room: SfuRoomName, message: LobbyMessage, *, limit: int, window_seconds: int, timeouts: LobbyTimeouts
    ) -> int | None:
        retry_after = await self._inner.message(
            room, message, limit=limit, window_seconds=window_seconds, timeouts=timeouts
        )
        if retry_after is None:
            self._metrics.messaged("everyone" if message.participant_id is None else "participant")
        return retry_after

    async def waiting(
        self, room: SfuRoomName, *, limit: int, after: int | None, now: datetime, stamp: str | None = None
    ) -> WaitingPage:
        return await self._inner.waiting(room, limit=limit, after=after, now=now, stamp=stamp)

    async def revoke(self, room: SfuRoomName, participant_id: str) -> bool:
        return await self._inner.revoke(room, participant_id)

    async def clear(self, room: SfuRoomName) -> None:
        await self._inner.clear(room)

    async def refresh(
        self, room: SfuRoomName, participant_ids: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        await self._inner.refresh(room, participant_ids, now, timeouts)

    async def whole_waiting_list(
        self, room: SfuRoomName, *, now: datetime, stamp: str | None = None, known: str | None = None
    ) -> WholeWaitingList:
        return await self._inner.whole_waiting_list(room, now=now, stamp=stamp, known=known)
