"""A bar ledger in memory: for tests of the domain and the stores (the service keeps its bars in SQL)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class MemoryBarLedger:
    """A ledger in memory: for tests of the domain only (the embedded default keeps its bars in SQLite)."""

    def __init__(self) -> None:
        self.bars: dict[tuple[str, str], datetime] = {}

    async def record(self, room: str, identity: str, until: datetime) -> None:
        key = (room, identity)
        self.bars[key] = max(until, self.bars.get(key, until))

    async def active(self, room: str, now: datetime) -> Mapping[str, datetime]:
        return {identity: until for (r, identity), until in self.bars.items() if r == room and until > now}
