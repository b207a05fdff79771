"""The same lobby contract runs against the Redis adapters (real server) and the memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis

from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemoryRateLimiter, MemorySeenEvents
from meet.adapters.redis.client import create_redis
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisRateLimiter, RedisSeenEvents
from meet.adapters.redis.lobby import RedisLobbyStore
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.ports import LobbyEvents, LobbyStore, RateLimiter


@dataclass
class Backend:
    name: str
    store: LobbyStore
    events: LobbyEvents
    limiter: RateLimiter
    seen: SeenEvents
    redis: Redis | None = None


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        events = MemoryLobbyEvents()
        yield Backend("memory", MemoryLobbyStore(events), events, MemoryRateLimiter(), MemorySeenEvents())
        return
    url: Any = request.getfixturevalue("redis_url")
    client = create_redis(url)
    await client.flushdb()
    redis_events = RedisLobbyEvents(client)
    try:
        yield Backend(
            "redis", RedisLobbyStore(client), redis_events, RedisRateLimiter(client), RedisSeenEvents(client), client
        )
    finally:
        await redis_events.aclose()
        await client.aclose()
