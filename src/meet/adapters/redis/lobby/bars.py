"""``RoomBars`` cached in Redis (``meet:lobby:{room}:bars``, beside the room's lobby keys, so a knock's
script checks them in its own step), in front of the durable bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.keys import room_keys
from meet.domain.conference.bars import BarReason, RoomBars
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.rooms.model import SfuRoomName

CACHE_TTL_MS = 3600 * 1000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisRoomBars:
    """A cold cache (never loaded, or lost with a Redis restart) is filled from the durable bars before it
    answers; every bar is written to the durable bars first, then to the cache."""

    def __init__(self, client: RedisClient, durable: RoomBars) -> None:
        self._durable = durable
        self._load = scripts.Program(client, scripts.LoadBars, sharded=False)
        self._bar = scripts.Program(client, scripts.Bar, sharded=False)
        self._barred = scripts.Program(client, scripts.Barred, sharded=False)

    async def load(self, room: SfuRoomName, now: datetime) -> None:
        active = await self._durable.active(room, now)
        bars = [(identity, ms(until)) for identity, until in active.items()]
        async with unavailable_as(LobbyUnavailable):
            await self._load(room_keys(room), scripts.LoadBars(cache_ttl=CACHE_TTL_MS, bars=bars))

    async def remember(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        """Only the durable copy (the caller's script wrote the cache already)."""
        await self._durable.bar(room, identity, until, reason)

    async def bar(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        await self._durable.bar(room, identity, until, reason)
        async with unavailable_as(LobbyUnavailable):
            await self._bar(room_keys(room), scripts.Bar(identity=identity, until_ms=ms(until), cache_ttl=CACHE_TTL_MS))

    async def barred(self, room: SfuRoomName, identities: Sequence[str], now: datetime) -> frozenset[str]:
        if not identities:
            return frozenset()
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await self._barred(room_keys(room), scripts.Barred(identities=identities, now=ms(now)))
            if answer != b"cold":
                return frozenset(identity.decode() for identity in answer)
            await self.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")

    async def active(self, room: SfuRoomName, now: datetime) -> Mapping[str, datetime]:
        return await self._durable.active(room, now)
