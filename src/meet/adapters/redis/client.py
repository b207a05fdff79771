from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from meet.domain.shared.errors import ServiceUnavailable

# What "Redis is not there right now" looks like to redis-py (BusyLoadingError is a ConnectionError).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError)


def create_redis(url: str) -> Redis:
    """One client (and connection pool) per process; reconnects by itself when Redis comes back.

    A pooled connection that died with a Redis restart fails its next command once: that command is
    sent again on a fresh connection (twice at most, 50 then 100 ms apart), so the first requests
    after a restart succeed instead of answering 503. ``from_url`` would otherwise retry nothing.
    """
    return Redis.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        max_connections=200,
        retry=Retry(ExponentialBackoff(cap=0.1, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


@asynccontextmanager
async def unavailable_as(error: type[ServiceUnavailable]) -> AsyncIterator[None]:
    try:
        yield
    except UNREACHABLE as cause:
        raise error from cause


class RedisUnavailable(ServiceUnavailable):
    default_message = "Redis cannot be reached; try again shortly."
    code = "redis_unavailable"


class RedisHealth:
    name = "redis"

    def __init__(self, client: Redis) -> None:
        self._client = client

    async def ping(self) -> None:
        await self._client.ping()
