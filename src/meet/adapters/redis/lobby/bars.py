"""The bars of a room in Redis (``meet:lobby:{room}:bars``), a cache of the durable ledger."""

from __future__ import annotations

from datetime import datetime

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.keys import room_keys
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.ports import BarLedger

CACHE_TTL_MS = 3600 * 1000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisBars:
    """The room's bars in Redis, a cache of the durable ``BarLedger``.

    A cold cache (never loaded, or lost with a Redis restart) is filled from the ledger before it
    answers; every bar is written to the ledger first, then to the cache.
    """

    def __init__(self, client: RedisClient, ledger: BarLedger) -> None:
        self._ledger = ledger
        self._load = scripts.Program(client, scripts.LoadBars, sharded=False)
        self._bar = scripts.Program(client, scripts.Bar, sharded=False)
        self._is_barred = scripts.Program(client, scripts.IsBarred, sharded=False)

    async def load(self, room: str, now: datetime) -> None:
        active = await self._ledger.active(room, now)
        bars = [(identity, ms(until)) for identity, until in active.items()]
        async with unavailable_as(LobbyUnavailable):
            await self._load(room_keys(room), scripts.LoadBars(cache_ttl=CACHE_TTL_MS, bars=bars))

    async def remember(self, room: str, identity: str, until: datetime) -> None:
        """Only the durable copy (the caller's script wrote the cache already)."""
        await self._ledger.record(room, identity, until)

    async def bar(self, room: str, identity: str, until: datetime) -> None:
        await self._ledger.record(room, identity, until)
        async with unavailable_as(LobbyUnavailable):
            await self._bar(room_keys(room), scripts.Bar(identity=identity, until_ms=ms(until), cache_ttl=CACHE_TTL_MS))

    async def is_barred(self, room: str, identity: str, now: datetime) -> bool:
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await self._is_barred(room_keys(room), scripts.IsBarred(identity=identity, now=ms(now)))
            if answer != b"cold":
                return bool(answer)
            await self.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")
