"""The join's ``EntryCheck`` in this process's memory: the room's stamp and its bars."""

from __future__ import annotations

from collections.abc import Sequence

from meet.adapters.memory.bars import MemoryBars
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.conference.model import EntryVerdict
from meet.domain.shared.clock import Clock


class MemoryEntryCheck:
    def __init__(self, stamps: MemoryRoomStamps, bars: MemoryBars, clock: Clock) -> None:
        self._stamps = stamps
        self._bars = bars
        self._clock = clock

    async def check(self, room: str, stamp: str | None, identities: Sequence[str]) -> EntryVerdict:
        if stamp is not None and not self._stamps.holds(room, stamp):
            return EntryVerdict.STALE
        now = self._clock.now()
        for identity in identities:
            if await self._bars.is_barred(room, identity, now):
                return EntryVerdict.BARRED
        return EntryVerdict.CLEAR
