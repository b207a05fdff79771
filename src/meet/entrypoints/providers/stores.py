"""Where the lobby, rate limits, removal bars, webhook dedupe and sessions live: Redis (shared by every
API process) or this process's memory (the single-process embedded default)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import AnyOf, Scope, provide
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemoryRateLimiter, MemorySeenEvents
from meet.adapters.memory.removals import MemoryRemovalRegistry
from meet.adapters.redis.client import RedisHealth, create_redis
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisRateLimiter, RedisSeenEvents
from meet.adapters.redis.lobby import RedisLobbyStore
from meet.adapters.redis.removals import RedisRemovalRegistry
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.ports import LobbyEvents, LobbyStore, RateLimiter
from meet.domain.moderation.ports import RemovalRegistry
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings

SESSION_NAMESPACE = "meet-sessions"


class RedisProvider(BackendProvider):
    """One Redis client (and connection pool) per process, behind every store."""

    health_checks = (RedisHealth,)

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[Redis]:
        client = create_redis(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def events(self, client: Redis) -> AsyncIterator[LobbyEvents]:
        events = RedisLobbyEvents(client)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def seen(self, client: Redis) -> SeenEvents:
        return RedisSeenEvents(client)

    @provide(scope=Scope.APP)
    def sessions(self, client: Redis) -> Store:
        return RedisStore(client, namespace=SESSION_NAMESPACE)

    lobby = provide(RedisLobbyStore, scope=Scope.APP, provides=LobbyStore)
    limiter = provide(RedisRateLimiter, scope=Scope.APP, provides=RateLimiter)
    removals = provide(RedisRemovalRegistry, scope=Scope.APP, provides=RemovalRegistry)
    health = provide(RedisHealth, scope=Scope.APP)


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
