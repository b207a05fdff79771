"""Lobby push across API processes on a Redis Cluster: sharded pub/sub (SSUBSCRIBE / SPUBLISH) by room.

A room's channel carries the room's hash tag, so it lives on the shard (master) that holds the
room's lobby keys; the lobby's scripts SPUBLISH on it there, and only that shard carries the
message. Each process holds one subscriber connection per master that owns a room someone in this
process listens to (at most one per master, whatever the number of rooms and streams), and fans
events out to its local streams.

When a master dies, its connection fails: its rooms are re-subscribed on whichever node owns their
slot once the cluster has promoted a replica (a keyed round trip through the cluster client
refreshes its slot map on the way). When a slot moves while the node stays up (resharding, or a
master demoted after a failover), the node itself unsubscribes us (an unrequested SUNSUBSCRIBE),
and the room is re-subscribed the same way. Listeners stay meanwhile; once the room is re-subscribed
they are told to read the state again (``RESYNC``), so a decision published in the gap is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from redis.asyncio import ConnectionPool, Redis, RedisCluster
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode
from redis.backoff import NoBackoff
from redis.exceptions import SlotNotCoveredError
from redis.retry import Retry

from meet.adapters.redis.client import UNREACHABLE
from meet.adapters.redis.events import ChannelFanOut
from meet.adapters.redis.lobby.keys import events_channel, room_of_channel

logger = logging.getLogger("meet.redis.events")


@dataclass
class _Shard:
    """The subscriber connection to one master, and the task reading it."""

    client: Redis
    pubsub: PubSub
    channels: set[str] = field(default_factory=set)
    reader: asyncio.Task[None] | None = None

    async def aclose(self) -> None:
        if self.reader is not None and self.reader is not asyncio.current_task():
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader
        with contextlib.suppress(Exception):
            await self.pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self.client.aclose()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisShardedLobbyEvents(ChannelFanOut):
    def __init__(self, client: RedisCluster, *, reconnect_delay: float = 0.5) -> None:
        super().__init__()
        self._client = client
        self._reconnect_delay = reconnect_delay
        self._owner: dict[str, str] = {}  # channel -> name of the node it is subscribed on
        self._shards: dict[str, _Shard] = {}
        self._orphans: set[str] = set()
        self._repair: asyncio.Task[None] | None = None

    async def _first_listener(self, channel: str) -> None:
        await self._attach(channel)
        self._confirm(channel)  # heard from now on (the shard reader does not wait for the SSUBSCRIBE reply)

    async def _last_listener(self, channel: str) -> None:
        await self._detach(channel)

    def _hearing(self, room: str) -> bool:
        return events_channel(room) not in self._orphans

    async def _attach(self, channel: str) -> None:
        await self._client.initialize()  # a no-op once the client knows the slot map
        node = self._client.get_node_from_key(channel)
        if node is None:  # only for replica=True; kept for the type checker
            raise SlotNotCoveredError(channel)
        shard = self._shard(node)
        try:
            await shard.pubsub.ssubscribe(channel)
        except BaseException:
            if not shard.channels:
                del self._shards[node.name]
                await shard.aclose()
            raise
        shard.channels.add(channel)
        self._owner[channel] = node.name
        if shard.reader is None:
            shard.reader = asyncio.get_running_loop().create_task(self._read(node.name, shard))

    def _shard(self, node: ClusterNode) -> _Shard:
        if node.name not in self._shards:
            # A connection of its own (a subscribed connection serves nothing else), failing fast:
            # a lost master is handled here, by re-subscribing on the promoted replica.
            pool = ConnectionPool(
                connection_class=node.connection_class,
                max_connections=2,
                **{**node.connection_kwargs, "retry": Retry(NoBackoff(), 0)},
            )
            client = Redis(connection_pool=pool)
            self._shards[node.name] = _Shard(client, client.pubsub())
        return self._shards[node.name]

    async def _detach(self, channel: str) -> None:
        self._orphans.discard(channel)
        name = self._owner.pop(channel, None)
        shard = self._shards.get(name) if name else None
        if shard is None:
            return
        shard.channels.discard(channel)
        async with self._lock:
            if not shard.channels:
                del self._shards[name]  # type: ignore[arg-type]
                await shard.aclose()
                return
            with contextlib.suppress(*UNREACHABLE):
                await shard.pubsub.sunsubscribe(channel)

    async def _read(self, name: str, shard: _Shard) -> None:
        try:
            while True:
                message = await shard.pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                channel = _text(message["channel"])
                if message["type"] == "smessage":
                    self._deliver(channel, message["data"])
                elif message["type"] == "sunsubscribe" and self._owner.get(channel) == name:
                    # Not asked for: the node no longer owns the room's slot. Follow the slot.
                    shard.pubsub.shard_channels.pop(message["channel"], None)
                    self._orphan(name, [channel])
        except UNREACHABLE as error:
            logger.warning("lobby event shard %s lost (%r); re-subscribing its rooms elsewhere", name, error)
            if self._shards.get(name) is shard:
                del self._shards[name]
            self._orphan(name, list(shard.channels))
            await shard.aclose()

    def _orphan(self, name: str, channels: list[str]) -> None:
        shard = self._shards.get(name)
        for channel in channels:
            if self._owner.get(channel) == name:
                del self._owner[channel]
            if shard is not None:
                shard.channels.discard(channel)
            if self._listened(channel):
                self._orphans.add(channel)
                self._fanout.missed(room_of_channel(channel))  # a mark taken before no longer vouches
        if self._orphans and (self._repair is None or self._repair.done()):
            self._repair = asyncio.get_running_loop().create_task(self._resubscribe())

    async def _resubscribe(self) -> None:
        while self._orphans:
            await asyncio.sleep(self._reconnect_delay)
            for channel in list(self._orphans):
                if not self._listened(channel):
                    self._orphans.discard(channel)
                    continue
                try:
                    async with self._lock:
                        # Through the cluster client, which rebuilds its slot map when the slot's
                        # master is gone: afterwards the channel's owner is the current one.
                        await self._client.exists(channel)
                        await self._attach(channel)
                except UNREACHABLE:
                    break  # the failover is not over: try again after the delay
                self._orphans.discard(channel)
                self._fanout.resync(room_of_channel(channel))  # what was published in the gap is gone: read again
                logger.info("lobby event channel %s re-subscribed", channel)

    async def aclose(self) -> None:
        if self._repair is not None:
            self._repair.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._repair
        shards, self._shards = list(self._shards.values()), {}
        for shard in shards:
            await shard.aclose()
