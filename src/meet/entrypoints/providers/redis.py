from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from meet.adapters.redis.client import create_redis, create_redis_cluster
from meet.domain.shared.clock import Clock, SystemClock
from meet.entrypoints.settings import Settings


class RedisProvider(Provider):
    """The one Redis client (and pool) of the process, when Redis is configured."""

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[Redis | None]:
        if not settings.redis_url:
            yield None
            return
        client = (
            create_redis_cluster(settings.redis_url) if settings.redis_cluster else create_redis(settings.redis_url)
        )
        yield client  # type: ignore[misc]
        await client.aclose()


class ClockProvider(Provider):
    clock = provide(SystemClock, scope=Scope.APP, provides=Clock)
