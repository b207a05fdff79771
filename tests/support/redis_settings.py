"""The ``MEET_*`` settings that put the service's stores on each kind of Redis the tests run against."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis, RedisCluster

STORES = ["memory", "redis", "redis-cluster"]


async def fresh_stores(request: pytest.FixtureRequest, kind: str) -> dict[str, str]:
    """Settings for ``kind`` (one of ``STORES``), its Redis emptied first; none for memory."""
    if kind == "redis":
        url = str(request.getfixturevalue("redis_url"))
        client = Redis.from_url(url)
        await client.flushdb()
        await client.aclose()
        return {"redis_url": url}
    if kind == "redis-cluster":
        url = str(request.getfixturevalue("redis_cluster_url"))
        cluster = RedisCluster.from_url(url)
        await cluster.flushdb()  # on every master
        await cluster.aclose()
        return {"redis_url": url, "redis_cluster": "true"}
    return {}
