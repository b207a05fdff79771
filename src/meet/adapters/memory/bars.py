"""Bars (a removal's, a denial's) in this process: a per-room cache of the durable ``BarLedger``."""

from __future__ import annotations

from datetime import datetime, timedelta

from meet.domain.lobby.ports import BarLedger
from meet.domain.shared.clock import Clock


class MemoryBars:
    """The rooms' bars, each room loaded from the ledger on first use; written to the ledger first."""

    def __init__(self, ledger: BarLedger) -> None:
        self._ledger = ledger
        self._rooms: dict[str, dict[str, datetime]] = {}

    async def loaded(self, room: str, now: datetime) -> dict[str, datetime]:
        bars = self._rooms.get(room)
        if bars is None:
            bars = self._rooms[room] = dict(await self._ledger.active(room, now))
        return bars

    async def bar(self, room: str, identity: str, until: datetime, now: datetime) -> None:
        await self._ledger.record(room, identity, until)
        bars = await self.loaded(room, now)
        bars[identity] = max(until, bars.get(identity, until))

    async def is_barred(self, room: str, identity: str, now: datetime) -> bool:
        until = (await self.loaded(room, now)).get(identity)
        return until is not None and until > now


class MemoryRemovalRegistry:
    """Removals are bars of the room, kept in the ledger and cached here."""

    def __init__(self, bars: MemoryBars, clock: Clock) -> None:
        self._bars = bars
        self._clock = clock

    async def bar(self, room: str, identity: str, seconds: int) -> None:
        now = self._clock.now()
        await self._bars.bar(room, identity, now + timedelta(seconds=seconds), now)

    async def is_barred(self, room: str, identity: str) -> bool:
        return await self._bars.is_barred(room, identity, self._clock.now())
