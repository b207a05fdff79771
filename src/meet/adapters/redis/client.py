from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff, ExponentialWithJitterBackoff
from redis.exceptions import ClusterError, RedisClusterException, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from meet.domain.shared.errors import ServiceUnavailable

# One Redis server or a Redis Cluster: the adapters use only what both offer (single-slot commands and
# scripts whose keys share one hash tag), so either client serves them.
RedisClient = Redis | RedisCluster

# What "Redis is not there right now" looks like to redis-py (BusyLoadingError is a ConnectionError),
# and on a cluster during a failover: CLUSTERDOWN and MASTERDOWN (ClusterError), TRYAGAIN, and the
# client's own "no reachable node" / "slots not all covered" while it rebuilds its slot map
# (RedisClusterException). MOVED and ASK never surface: the cluster client follows them.
UNREACHABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
    ClusterError,
    TryAgainError,
    RedisClusterException,
)


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
        retry=AsyncRetry(ExponentialBackoff(cap=0.1, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )


def create_redis_cluster(url: str) -> RedisCluster:
    """A cluster client seeded by any one node (``rediss://`` for TLS); it discovers the others.

    It follows MOVED and ASK, and on a lost node or CLUSTERDOWN rebuilds its slot map from the
    nodes still up and retries a few times, then gives up (a 503 upstream), so a request waits a
    bounded time during a failover and the client finds the promoted replica by itself afterwards.
    """
    return RedisCluster.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=30,
        max_connections=200,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=0.5), retries=3),
    )


def _torn_down_under_a_command(error: BaseException) -> bool:
    """redis-py's async cluster client, when a node dies, closes every connection to it, also those a
    concurrent command is writing on; that command then fails inside the client with an
    ``AttributeError`` (its writer is gone). It means the node was lost, nothing more."""
    if not isinstance(error, AttributeError):
        return False
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and frame.tb_frame.f_code.co_filename.replace("\\", "/").endswith(
        "redis/asyncio/connection.py"
    )


def _written_after_close(error: BaseException) -> bool:
    """The same race seen from asyncio: ``RuntimeError: unable to perform operation on <TCPTransport
    closed=True ...>; the handler is closed`` while a node goes away."""
    return isinstance(error, RuntimeError) and "handler is closed" in str(error)


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` means "Redis is not there right now" rather than a bug."""
    return isinstance(error, UNREACHABLE) or _torn_down_under_a_command(error) or _written_after_close(error)


@asynccontextmanager
async def unavailable_as(error: type[ServiceUnavailable]) -> AsyncIterator[None]:
    try:
        yield
    except Exception as cause:
        if is_unreachable(cause):
            raise error from cause
        raise


async def open_redis_cluster(url: str) -> RedisCluster:
    """``create_redis_cluster``, having learnt the slot map already when the cluster answers.

    redis-py's async cluster client initializes lazily, on its first command; when many commands race
    that first initialization, some fail inside the client (a connection is reset while another command
    is connecting on it). Learning the map before serving avoids the race. A cluster that does not answer
    yet does not stop the start: the client then initializes on its first command, as usual.
    """
    client = create_redis_cluster(url)
    with contextlib.suppress(*UNREACHABLE):
        await client.initialize()
    return client


class RedisUnavailable(ServiceUnavailable):
    default_message = "Redis cannot be reached; try again shortly."
    code = "redis_unavailable"


class RedisHealth:
    name = "redis"

    def __init__(self, client: RedisClient) -> None:
        self._client = client

    async def ping(self) -> None:
        await self._client.ping()


class RedisClusterHealth:
    """Ready when every master answers: a dead master's slots answer nothing until its replica takes over."""

    name = "redis"

    def __init__(self, client: RedisCluster) -> None:
        self._client = client

    async def ping(self) -> None:
        await self._client.ping(target_nodes=RedisCluster.PRIMARIES)
