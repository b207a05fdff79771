from __future__ import annotations

from datetime import timedelta

from meet.adapters.redis.lobby import RedisBars
from meet.domain.shared.clock import Clock


class RedisRemovalRegistry:
    """Removals are bars of the room (the ledger keeps them, Redis caches them with the room's lobby keys),
    so a Redis restart never lets a removed participant back in."""

    def __init__(self, bars: RedisBars, clock: Clock) -> None:
        self._bars = bars
        self._clock = clock

    async def bar(self, room: str, identity: str, seconds: int) -> None:
        await self._bars.bar(room, identity, self._clock.now() + timedelta(seconds=seconds))

    async def is_barred(self, room: str, identity: str) -> bool:
        return await self._bars.is_barred(room, identity, self._clock.now())
