"""The same lobby contract runs against the Redis adapters (real server) and the memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from meet.adapters.memory.bars import MemoryBars
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemorySeenEvents
from meet.adapters.redis.client import create_redis
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisSeenEvents
from meet.adapters.redis.lobby import RedisBars, RedisLobbyStore
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.ports import LobbyEvents, LobbyStore
from tests.doubles.bars import MemoryBarLedger


@dataclass
class Backend:
    name: str
    store: LobbyStore
    events: LobbyEvents
    seen: SeenEvents
    ledger: MemoryBarLedger
    redis: Redis | None = None

    def forget_cache(self) -> LobbyStore:
        """A store that lost everything but the ledger (a restarted cache); Redis is flushed."""
        if isinstance(self.store, MemoryLobbyStore):
            events = MemoryLobbyEvents()
            return MemoryLobbyStore(events, MemoryBars(self.ledger))
        return self.store


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    ledger = MemoryBarLedger()
    if request.param == "memory":
        events = MemoryLobbyEvents()
        yield Backend("memory", MemoryLobbyStore(events, MemoryBars(ledger)), events, MemorySeenEvents(), ledger)
        return
    url: Any = request.getfixturevalue("redis_url")
    client = create_redis(url)
    await client.flushdb()
    redis_events = RedisLobbyEvents(client)
    store = RedisLobbyStore(client, RedisBars(client, ledger))
    try:
        yield Backend("redis", store, redis_events, RedisSeenEvents(client), ledger, client)
    finally:
        await redis_events.aclose()
        await client.aclose()
