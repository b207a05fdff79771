from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection, SSLConnection, UnixDomainSocketConnection
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialBackoff, ExponentialWithJitterBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ClusterError, MaxConnectionsError, RedisClusterException, TryAgainError
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


MAX_CONNECTIONS = 200  # per process (per node on a cluster)
SOCKET_TIMEOUT = 5.0


class QueuedConnectionPool(ConnectionPool):
    """redis-py's pool, except that a command finding every connection in use waits for one, in turn,
    instead of failing at once.

    The connections in use are the commands in flight, and a worker that was busy for a moment (ten
    thousand held polls answered at once) finds hundreds of requests arrived meanwhile, each sending
    its command: failing those as "Redis is unreachable" would send every client of a crowded room back
    a second later, into the same crowd. They wait instead, first come first served, up to ``wait``
    seconds, then fail as before. redis-py's own ``BlockingConnectionPool`` takes a lock to hand a
    connection back, so under that load the connections wait in line to be returned.
    """

    def __init__(self, *, wait: float = SOCKET_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._wait = wait
        self._queue: deque[asyncio.Future[None]] = deque()
        self._woken = 0  # waiters told a connection is free, not yet running

    async def get_connection(self, *_: Any, **__: Any) -> AbstractConnection:  # redis-py's deprecated arguments
        if not self._queue and not self._woken and self.can_get_connection():
            try:
                return await self._take()
            except MaxConnectionsError:
                pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        overtaken = False
        while True:
            turn = loop.create_future()
            if overtaken:  # woken, but a connection was taken meanwhile: first in line again
                self._queue.appendleft(turn)
            else:
                self._queue.append(turn)
            try:
                async with asyncio.timeout_at(deadline):
                    await turn
            except BaseException as error:
                self._give_up(turn)
                if isinstance(error, TimeoutError):
                    raise RedisConnectionError("every Redis connection stayed in use") from None
                raise
            self._woken -= 1
            if self.can_get_connection():
                with contextlib.suppress(MaxConnectionsError):
                    return await self._take()
            overtaken = True

    async def _take(self) -> AbstractConnection:
        connection: AbstractConnection = await super().get_connection()  # type: ignore[no-untyped-call]
        return connection

    async def release(self, connection: AbstractConnection) -> None:
        await super().release(connection)
        self._wake()

    def _give_up(self, turn: asyncio.Future[None]) -> None:
        """A waiter leaves (its time ran out, its request was cancelled); a turn it was given goes to the next."""
        if turn.done() and not turn.cancelled():
            self._woken -= 1
            self._wake()
        else:
            with contextlib.suppress(ValueError):
                self._queue.remove(turn)

    def _wake(self) -> None:
        free = self.max_connections - len(self._in_use_connections)
        while self._queue and self._woken < free:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                self._woken += 1


# redis-py's own hiredis packer (its synchronous client's): splits a two-word command name, takes bytearray
# and memoryview, and refuses what Redis has no form for (bool, None, ...) with DataError, as it does.
_HIREDIS_PACKER = HiredisRespSerializer()


class PromptSend(AbstractConnection):
    """A connection that writes a command where it stands, instead of in a task of its own.

    redis-py bounds the write of every command with ``asyncio.wait_for``, which (before Python 3.12)
    starts a task for it: one more task, and one more turn of the event loop before the command even
    leaves, for each of the lobby's round trips. The write only queues bytes on the transport; what can
    take time is waiting for a full buffer to drain, and that wait is bounded here the same way.

    The command is packed by hiredis (C), as redis-py's synchronous client does, instead of in Python:
    the same bytes (UTF-8, meet's encoding), a sixth of the time, for every command of every poll.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        packed: list[bytes] = _HIREDIS_PACKER.pack(*args)
        return packed

    async def send_packed_command(self, command: bytes | str | Any, check_health: bool = True) -> None:
        if not self.is_connected:
            await self.connect_check_health(check_health=False)
        if check_health:
            await self.check_health()  # type: ignore[no-untyped-call]
        try:
            if isinstance(command, str):
                command = command.encode()
            if isinstance(command, bytes):
                command = [command]
            writer = self._writer
            assert writer is not None  # connected above
            writer.writelines(command)
            if writer.transport.get_write_buffer_size():
                async with asyncio.timeout(self.socket_timeout):
                    await writer.drain()
        except TimeoutError:
            await self.disconnect(nowait=True)
            raise RedisTimeoutError("Timeout writing to socket") from None
        except OSError as error:
            await self.disconnect(nowait=True)
            raise RedisConnectionError(f"Error while writing to socket: {error}") from error
        except BaseException:
            # Part of the command may have been written: the connection cannot be trusted with another.
            await self.disconnect(nowait=True)
            raise


class PromptConnection(PromptSend, Connection):
    pass


class PromptSSLConnection(PromptSend, SSLConnection):
    pass


class PromptUnixDomainSocketConnection(PromptSend, UnixDomainSocketConnection):
    pass


PROMPT: dict[type[AbstractConnection], type[AbstractConnection]] = {
    Connection: PromptConnection,
    SSLConnection: PromptSSLConnection,
    UnixDomainSocketConnection: PromptUnixDomainSocketConnection,
}


def create_redis(url: str) -> Redis:
    """One client (and connection pool) per process; reconnects by itself when Redis comes back.

    A pooled connection that died with a Redis restart fails its next command once: that command is
    sent again on a fresh connection (twice at most, 50 then 100 ms apart), so the first requests
    after a restart succeed instead of answering 503. ``from_url`` would otherwise retry nothing.
    """
    pool = QueuedConnectionPool.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
        max_connections=MAX_CONNECTIONS,
        retry=AsyncRetry(ExponentialBackoff(cap=0.1, base=0.05), retries=2),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
    )
    pool.connection_class = PROMPT.get(pool.connection_class, pool.connection_class)
    return Redis.from_pool(pool)


def create_redis_cluster(url: str) -> RedisCluster:
    """A cluster client seeded by any one node (``rediss://`` for TLS); it discovers the others.

    It follows MOVED and ASK, and on a lost node or CLUSTERDOWN rebuilds its slot map from the
    nodes still up and retries a few times, then gives up (a 503 upstream), so a request waits a
    bounded time during a failover and the client finds the promoted replica by itself afterwards.
    """
    return RedisCluster.from_url(
        url,
        socket_connect_timeout=2,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=30,
        max_connections=MAX_CONNECTIONS,
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
