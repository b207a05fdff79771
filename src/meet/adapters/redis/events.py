"""Lobby push across API processes: Redis pub/sub, one connection per process, fanned out locally.

Each process holds a single subscriber connection and subscribes to a room's channel only
while someone in that process listens to the room. If Redis goes away the reader reconnects
by itself and re-subscribes; listeners meanwhile only see keep-alives, and the use cases
re-read the store on each keep-alive, so a decision published during the outage is not lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from meet.adapters.queues import QueueSubscription
from meet.adapters.redis.client import UNREACHABLE, unavailable_as
from meet.adapters.redis.lobby import EVENT_TYPES, decode_entry, events_channel
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import LobbyEvent

logger = logging.getLogger("meet.redis.events")


def parse_event(payload: bytes | str) -> LobbyEvent | None:
    try:
        data = json.loads(payload)
        entry = data.get("entry")
        return LobbyEvent(
            type=EVENT_TYPES[data["type"]],
            participant_id=data.get("participant_id"),
            entry=decode_entry(entry) if entry else None,
        )
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring a malformed lobby event")
        return None


class Listeners:
    """This process's streams by channel: events read from Redis are delivered to them here."""

    def __init__(self) -> None:
        self._by_channel: dict[str, set[QueueSubscription]] = defaultdict(set)

    def add(self, channel: str, subscription: QueueSubscription) -> bool:
        """Add a listener; True when it is the channel's first (time to subscribe)."""
        first = not self._by_channel[channel]
        self._by_channel[channel].add(subscription)
        return first

    def remove(self, channel: str, subscription: QueueSubscription) -> bool:
        """Remove a listener; True when it was the channel's last (time to unsubscribe)."""
        self._by_channel[channel].discard(subscription)
        if self._by_channel[channel]:
            return False
        del self._by_channel[channel]
        return True

    def deliver(self, channel: str, payload: bytes | str) -> None:
        event = parse_event(payload)
        if event is None:
            return
        for subscription in tuple(self._by_channel.get(channel, ())):
            subscription.queue.put_nowait(event)

    def channels(self) -> list[str]:
        return list(self._by_channel)

    def __contains__(self, channel: object) -> bool:
        return channel in self._by_channel

    def __bool__(self) -> bool:
        return bool(self._by_channel)


class ChannelFanOut:
    """``LobbyEvents.subscribe`` over Redis: the first local listener of a room subscribes this process
    to the room's channel, the last one unsubscribes it; events are fanned out to the listeners."""

    def __init__(self) -> None:
        self._listeners = Listeners()
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def subscribe(self, room: str) -> AsyncIterator[QueueSubscription]:
        channel = events_channel(room)
        subscription = QueueSubscription()
        first = self._listeners.add(channel, subscription)
        try:
            if first:
                async with self._lock, unavailable_as(LobbyUnavailable):
                    await self._first_listener(channel)
            self._subscribed()
            yield subscription
        finally:
            if self._listeners.remove(channel, subscription):
                await self._last_listener(channel)

    async def _first_listener(self, channel: str) -> None:
        raise NotImplementedError

    def _subscribed(self) -> None:
        """Called after each subscription (the reader may need starting)."""

    async def _last_listener(self, channel: str) -> None:
        raise NotImplementedError


class RedisLobbyEvents(ChannelFanOut):
    """Classic pub/sub on one Redis server (see ``sharded_events`` for a Redis Cluster)."""

    def __init__(self, client: Redis, *, reconnect_delay: float = 0.5) -> None:
        super().__init__()
        self._client = client
        self._reconnect_delay = reconnect_delay
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None

    async def _first_listener(self, channel: str) -> None:
        await self._connected().subscribe(channel)

    def _subscribed(self) -> None:
        self._start_reader()

    async def _last_listener(self, channel: str) -> None:
        await self._unsubscribe(channel)

    def _connected(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        return self._pubsub

    def _start_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _unsubscribe(self, channel: str) -> None:
        if self._pubsub is None:
            return
        with contextlib.suppress(*UNREACHABLE):
            async with self._lock:
                await self._pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        while self._listeners:
            pubsub = self._connected()
            try:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except UNREACHABLE as error:
                logger.warning("lobby event channel lost (%r); reconnecting", error)
                await self._reconnect()
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            self._listeners.deliver(channel, message["data"])

    async def _reconnect(self) -> None:
        old, self._pubsub = self._pubsub, None
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()  # type: ignore[no-untyped-call]
        while self._listeners:
            await asyncio.sleep(self._reconnect_delay)
            try:
                async with self._lock:
                    channels = self._listeners.channels()
                    if channels:
                        await self._connected().subscribe(*channels)
            except UNREACHABLE:
                self._pubsub = None
                continue
            return

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
