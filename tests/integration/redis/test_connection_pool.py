"""When every Redis connection is in use, a command waits its turn instead of failing as "unreachable"."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from meet.adapters.redis.client import QueuedConnectionPool


def client(url: str, *, connections: int, wait: float) -> Redis:
    return Redis.from_pool(QueuedConnectionPool.from_url(url, max_connections=connections, wait=wait))


async def test_a_burst_larger_than_the_pool_is_served_in_turn(redis_url: str) -> None:
    redis = client(redis_url, connections=2, wait=10)
    try:
        # Each command keeps its connection for 50 ms: 40 of them through 2 connections.
        answers = await asyncio.gather(*(redis.blpop([f"pool:nothing:{n}"], timeout=0.05) for n in range(40)))
        assert answers == [None] * 40
        assert len(redis.connection_pool._in_use_connections) == 0
    finally:
        await redis.aclose()


async def test_those_waiting_are_served_first_come_first_served(redis_url: str) -> None:
    redis = client(redis_url, connections=1, wait=10)
    served: list[int] = []

    async def command(n: int) -> None:
        await redis.blpop([f"pool:nothing:{n}"], timeout=0.02)
        served.append(n)

    try:
        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(command(n)))
            await asyncio.sleep(0)  # each sends (or queues) before the next starts
        await asyncio.gather(*tasks)
        assert served == list(range(8))
    finally:
        await redis.aclose()


async def test_a_connection_that_stays_in_use_fails_the_waiting_command_after_its_wait(redis_url: str) -> None:
    redis = client(redis_url, connections=1, wait=0.2)
    try:
        holding = asyncio.ensure_future(redis.blpop(["pool:held"], timeout=2))
        await asyncio.sleep(0.05)
        with pytest.raises(RedisConnectionError, match="in use"):
            await redis.get("pool:other")
        assert await holding is None
        assert await redis.get("pool:other") is None  # and the pool serves again once it is free
    finally:
        await redis.aclose()


async def test_a_waiter_that_gives_up_passes_its_turn_on(redis_url: str) -> None:
    redis = client(redis_url, connections=1, wait=10)
    try:
        holding = asyncio.ensure_future(redis.blpop(["pool:held"], timeout=0.2))
        await asyncio.sleep(0.05)
        impatient = asyncio.ensure_future(redis.get("pool:a"))
        patient = asyncio.ensure_future(redis.get("pool:b"))
        await asyncio.sleep(0.01)
        impatient.cancel()
        assert await patient is None
        assert await holding is None
        assert impatient.cancelled()
    finally:
        await redis.aclose()
