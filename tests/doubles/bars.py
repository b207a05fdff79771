"""The durable ``RoomBars`` in memory: for tests of the domain and the caches (the service keeps them in SQL)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from meet.domain.conference.bars import BarReason


class DurableBarsDouble:
    """Stands in for ``SqlRoomBars``: what a restarted cache would load its bars from."""

    def __init__(self) -> None:
        self.bars: dict[tuple[str, str], datetime] = {}
        self.reasons: dict[tuple[str, str], BarReason] = {}
        self.bulk_writes = 0  # how many times ``bar_many`` was called

    async def bar(self, room: str, identity: str, until: datetime, reason: BarReason) -> None:
        key = (room, identity)
        self.bars[key] = max(until, self.bars.get(key, until))
        self.reasons[key] = reason

    async def bar_many(self, room: str, identities: Sequence[str], until: datetime, reason: BarReason) -> None:
        self.bulk_writes += 1
        for identity in identities:
            await self.bar(room, identity, until, reason)

    async def barred(self, room: str, identities: Sequence[str], now: datetime) -> frozenset[str]:
        return frozenset(i for i in identities if self.bars.get((room, i), now) > now)

    async def active(self, room: str, now: datetime) -> Mapping[str, datetime]:
        return {identity: until for (r, identity), until in self.bars.items() if r == room and until > now}
