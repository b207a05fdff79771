"""Where the lobby, rate limits, removal bars, webhook dedupe and sessions live: one Redis server or a
Redis Cluster (shared by every API process), or this process's memory (the single-process embedded
default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

from dishka import AnyOf, Scope, provide
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis, RedisCluster

from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemoryRateLimiter, MemorySeenEvents
from meet.adapters.memory.removals import MemoryRemovalRegistry
from meet.adapters.redis.client import (
    RedisClient,
    RedisClusterHealth,
    RedisHealth,
    create_redis,
    open_redis_cluster,
)
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisRateLimiter, RedisSeenEvents
from meet.adapters.redis.lobby import RedisLobbyStore
from meet.adapters.redis.removals import RedisRemovalRegistry
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.ports import LobbyEvents, LobbyStore, RateLimiter
from meet.domain.moderation.ports import RemovalRegistry
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings

SESSION_NAMESPACE = "meet-sessions"


class _RedisStores(BackendProvider):
    """What one Redis server and a Redis Cluster serve alike: single-key commands and one-key scripts."""

    @provide(scope=Scope.APP)
    def seen(self, client: RedisClient) -> SeenEvents:
        return RedisSeenEvents(client)

    @provide(scope=Scope.APP)
    def sessions(self, client: RedisClient) -> Store:
        # Litestar's RedisStore only sends single-key commands and a one-key script: a cluster client
        # serves them as well as a single-node one (its type hint names only the latter).
        return RedisStore(cast("Redis", client), namespace=SESSION_NAMESPACE)

    limiter = provide(RedisRateLimiter, scope=Scope.APP, provides=RateLimiter)
    removals = provide(RedisRemovalRegistry, scope=Scope.APP, provides=RemovalRegistry)


class RedisProvider(_RedisStores):
    """One Redis server: one client (and connection pool) per process, behind every store; classic
    pub/sub for the lobby's push."""

    health_checks = (RedisHealth,)

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[AnyOf[Redis, RedisClient]]:
        client = create_redis(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def events(self, client: Redis) -> AsyncIterator[LobbyEvents]:
        events = RedisLobbyEvents(client)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def lobby(self, client: Redis) -> LobbyStore:
        return RedisLobbyStore(client)

    health = provide(RedisHealth, scope=Scope.APP)


class RedisClusterProvider(_RedisStores):
    """A Redis Cluster (``MEET_REDIS_CLUSTER``), seeded by ``MEET_REDIS_URL``: one cluster client per
    process (a pool per node); the lobby's push on sharded pub/sub, one subscriber connection per master
    that holds a room someone in this process listens to."""

    health_checks = (RedisClusterHealth,)

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[AnyOf[RedisCluster, RedisClient]]:
        client = await open_redis_cluster(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def events(self, client: RedisCluster) -> AsyncIterator[LobbyEvents]:
        events = RedisShardedLobbyEvents(client)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def lobby(self, client: RedisCluster) -> LobbyStore:
        return RedisLobbyStore(client, sharded=True)

    health = provide(RedisClusterHealth, scope=Scope.APP)


class MemoryStoresProvider(BackendProvider):
    """Everything in this process's memory: one process only, lost at restart."""

    absent = ("redis", "the lobby and sessions in this process's memory: one process only")

    events = provide(MemoryLobbyEvents, scope=Scope.APP, provides=AnyOf[MemoryLobbyEvents, LobbyEvents])
    lobby = provide(MemoryLobbyStore, scope=Scope.APP, provides=LobbyStore)
    limiter = provide(MemoryRateLimiter, scope=Scope.APP, provides=RateLimiter)
    removals = provide(MemoryRemovalRegistry, scope=Scope.APP, provides=RemovalRegistry)

    @provide(scope=Scope.APP)
    def seen(self) -> SeenEvents:
        return MemorySeenEvents()

    @provide(scope=Scope.APP)
    def sessions(self) -> Store:
        return MemoryStore()
