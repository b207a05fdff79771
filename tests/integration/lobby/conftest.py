"""The same lobby contract runs against the memory adapters and the Redis adapters, on one real Redis
server and on a real Redis Cluster (three masters, one replica each)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemoryRateLimiter, MemorySeenEvents
from meet.adapters.redis.client import create_redis, open_redis_cluster
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisRateLimiter, RedisSeenEvents
from meet.adapters.redis.lobby import RedisLobbyStore
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.ports import LobbyEvents, LobbyStore, RateLimiter


@dataclass
class Backend:
    name: str
    store: LobbyStore
    events: LobbyEvents
    limiter: RateLimiter
    seen: SeenEvents
    redis: Redis | RedisCluster | None = None


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    if request.param == "memory":
        events = MemoryLobbyEvents()
        yield Backend("memory", MemoryLobbyStore(events), events, MemoryRateLimiter(), MemorySeenEvents())
        return
    if request.param == "redis-cluster":
        cluster = await open_redis_cluster(str(request.getfixturevalue("redis_cluster_url")))
        await cluster.flushdb()  # on every master
        sharded = RedisShardedLobbyEvents(cluster)
        try:
            yield Backend(
                "redis-cluster",
                RedisLobbyStore(cluster, sharded=True),
                sharded,
                RedisRateLimiter(cluster),
                RedisSeenEvents(cluster),
                cluster,
            )
        finally:
            await sharded.aclose()
            await cluster.aclose()
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
