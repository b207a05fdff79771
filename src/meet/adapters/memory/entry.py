"""The join's ``EntryCheck`` in this process's memory: the room's stamp, then its bars and its door."""

from __future__ import annotations

from collections.abc import Sequence

from meet.adapters.memory.door import MemoryDoors
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.conference.bars import RoomBars
from meet.domain.conference.model import EntryVerdict
from meet.domain.conference.ports import EntryReading
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.clock import Clock


class MemoryEntryCheck:
    def __init__(
        self, stamps: MemoryRoomStamps, bars: RoomBars, clock: Clock, doors: MemoryDoors | None = None
    ) -> None:
        self._doors = doors
        self._stamps = stamps
        self._bars = bars
        self._clock = clock

    async def check(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryVerdict:
        if stamp is not None and not self._stamps.holds(room, stamp):
            return EntryVerdict.STALE
        if identities and await self._bars.barred(room, identities, self._clock.now()):
            return EntryVerdict.BARRED
        return EntryVerdict.CLEAR

    async def read(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryReading:
        verdict = await self.check(room, stamp, identities)
        if self._doors is None or verdict is EntryVerdict.STALE:
            return EntryReading(verdict)
        return EntryReading(verdict, self._doors.state(room, tuple(identities), self._clock.now()))
