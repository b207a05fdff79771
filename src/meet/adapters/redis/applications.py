"""What the token endpoint and the bearer check share across processes: seen assertion ids, lately
disabled applications, and the per-application request counts."""

from __future__ import annotations

import math
from datetime import datetime

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as


class RedisSeenAssertions:
    def __init__(self, client: RedisClient) -> None:
        self._client = client

    async def first_use(self, key: str, until: datetime, now: datetime) -> bool:
        seconds = max(1, math.ceil((until - now).total_seconds()) + 60)  # past exp, plus the leeway
        async with unavailable_as(RedisUnavailable):
            return bool(await self._client.set(f"meet:assertion:{key}", b"1", nx=True, ex=seconds))


class RedisApplicationRevocations:
    def __init__(self, client: RedisClient) -> None:
        self._client = client

    async def revoke(self, client_id: str, seconds: int) -> None:
        async with unavailable_as(RedisUnavailable):
            await self._client.set(f"meet:revoked-application:{client_id}", b"1", ex=seconds)

    async def revoked(self, client_id: str) -> bool:
        async with unavailable_as(RedisUnavailable):
            return bool(await self._client.exists(f"meet:revoked-application:{client_id}"))


class RedisRateLimiter:
    def __init__(self, client: RedisClient) -> None:
        self._client = client

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> int:
        name = f"meet:rate:{key}"
        async with unavailable_as(RedisUnavailable):
            count = int(await self._client.incr(name))
            if count == 1:
                await self._client.expire(name, window_seconds)
            if count <= limit:
                return 0
            ttl = int(await self._client.ttl(name))
        if ttl < 0:  # the expiry was lost (a crash between the two commands): set it again
            await self._client.expire(name, window_seconds)
            ttl = window_seconds
        return max(1, ttl)
