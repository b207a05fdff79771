"""Lobby push across API processes: Redis pub/sub, one connection per process, routed locally.

Each process holds a single subscriber connection and subscribes to a room's channel only while
someone in that process listens to the room. A message is parsed once and handed to the in-process
index (``FanOut``), which gives it to the listeners of that participant and the room's admins only.
A listener is heard from the moment the channel's subscription is confirmed by Redis. If the
connection is lost, every listener learns it (its stream ends cleanly and the client reconnects),
since events published meanwhile are gone; the reader reconnects by itself for the next listeners.
redis-py may also reconnect under us and subscribe again without a word: a second confirmation of a
room's subscription is taken for what it is, a gap, and the room's listeners read the state again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from meet.adapters.fanout import FanOut, Heard, ParticipantFeed, RoomFeed
from meet.adapters.redis.client import UNREACHABLE, unavailable_as
from meet.adapters.redis.lobby.codec import parse_events
from meet.adapters.redis.lobby.keys import events_channel, room_of_channel
from meet.domain.lobby.errors import LobbyUnavailable

logger = logging.getLogger("meet.redis.events")


class ChannelFanOut:
    """``LobbyEvents`` over Redis channels: the first local listener of a room subscribes this process to
    the room's channel (and waits until that is confirmed), the last one unsubscribes it; each message is
    parsed once and routed through the in-process index. Subclasses subscribe (classic or sharded)."""

    def __init__(self) -> None:
        self._fanout = FanOut()
        self._confirmed: dict[str, asyncio.Future[None]] = {}  # room -> subscription confirmed by Redis
        self._lock = asyncio.Lock()

    def of_participant(self, room: str, participant_id: str) -> ParticipantListening:
        return ParticipantListening(self, room, participant_id)

    def deciding(self, room: str) -> None:
        self._fanout.deciding(room)

    def heard(self, room: str) -> Heard | None:
        if not self._subscribed(room) or not self._hearing(room):
            return None  # not subscribed (yet, or any more): what is published now may never reach us
        return self._fanout.heard(room)

    def _subscribed(self, room: str) -> bool:
        """Whether Redis confirmed the room's subscription (and it was not given up since)."""
        confirmed = self._confirmed.get(room)
        return confirmed is not None and confirmed.done() and not confirmed.cancelled()

    def _hearing(self, room: str) -> bool:  # noqa: ARG002 - the sharded subclass's answer depends on it
        """Whether the room's confirmed subscription still stands (a subclass may know it does not)."""
        return True

    async def open_participant_feed(self, room: str, participant_id: str) -> ParticipantFeed:
        """A feed of the participant's events, heard from the moment Redis confirmed the subscription."""
        feed = ParticipantFeed()
        self._fanout.add_participant(room, participant_id, feed)
        try:
            await self._listening(room)
        except BaseException:
            await self.close_participant_feed(room, participant_id, feed)
            raise
        return feed

    async def close_participant_feed(self, room: str, participant_id: str, feed: ParticipantFeed) -> None:
        self._fanout.remove_participant(room, participant_id, feed)
        await self._forget(room)

    @asynccontextmanager
    async def of_room(self, room: str) -> AsyncIterator[RoomFeed]:
        feed = RoomFeed()
        self._fanout.add_admin(room, feed)
        try:
            await self._listening(room)
            yield feed
        finally:
            self._fanout.remove_admin(room, feed)
            await self._forget(room)

    async def _listening(self, room: str) -> None:
        """Wait until Redis confirmed the room's subscription (subscribing first if nobody did)."""
        if self._subscribed(room):
            return  # the common case in a crowded room: heard already
        confirmed = self._confirmed.get(room)
        if confirmed is None:
            confirmed = self._confirmed[room] = asyncio.get_running_loop().create_future()
            try:
                async with self._lock, unavailable_as(LobbyUnavailable):
                    await self._first_listener(events_channel(room))
            except BaseException:
                self._confirmed.pop(room, None)
                confirmed.cancel()
                raise
        try:
            await asyncio.wait_for(asyncio.shield(confirmed), timeout=5)
        except (TimeoutError, asyncio.CancelledError) as error:
            if isinstance(error, asyncio.CancelledError) and not confirmed.cancelled():
                raise
            raise LobbyUnavailable from error

    def _confirm(self, channel: bytes | str) -> None:
        room = room_of_channel(channel)
        confirmed = self._confirmed.get(room)
        if confirmed is None:
            return
        if not confirmed.done():
            confirmed.set_result(None)
        elif not confirmed.cancelled():
            # Confirmed twice: the connection was re-established and the room subscribed again (redis-py
            # does so by itself), so what was published in between never came. Read the state again.
            logger.warning("lobby event channel of %s subscribed again; its listeners read the state again", room)
            self._fanout.resync(room)

    def _deliver(self, channel: bytes | str, payload: bytes | str) -> None:
        room = room_of_channel(channel)
        for event in parse_events(payload):
            self._fanout.deliver(room, event)

    def _listened(self, channel: bytes | str) -> bool:
        return self._fanout.watches(room_of_channel(channel))

    async def _forget(self, room: str) -> None:
        if self._fanout.watches(room):
            return
        confirmed = self._confirmed.pop(room, None)
        if confirmed is not None and not confirmed.done():
            confirmed.cancel()
        await self._last_listener(events_channel(room))

    def _lose_all(self) -> None:
        """Every listener ends (events may have been lost); later listeners subscribe anew."""
        for confirmed in self._confirmed.values():
            if not confirmed.done():
                confirmed.cancel()
        self._confirmed.clear()
        self._fanout.lose()

    async def _first_listener(self, channel: str) -> None:
        raise NotImplementedError

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
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _last_listener(self, channel: str) -> None:
        if self._pubsub is None:
            return
        with contextlib.suppress(*UNREACHABLE):
            async with self._lock:
                await self._pubsub.unsubscribe(channel)

    def _connected(self) -> PubSub:
        if self._pubsub is None:
            self._pubsub = self._client.pubsub()
        return self._pubsub

    async def _read(self) -> None:
        while self._confirmed:
            pubsub = self._connected()
            try:
                message = await pubsub.get_message(timeout=1.0)
            except UNREACHABLE as error:
                logger.warning("lobby event channel lost (%r); its listeners reconnect", error)
                await self._lost()
                continue
            if message is None:
                continue
            if message.get("type") == "subscribe":
                self._confirm(message["channel"])
            elif message.get("type") == "message":
                self._deliver(message["channel"], message["data"])

    async def _lost(self) -> None:
        """Every listener ends (its events may be lost); later listeners subscribe on a new connection."""
        old, self._pubsub = self._pubsub, None
        self._lose_all()
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()  # type: ignore[no-untyped-call]
        await asyncio.sleep(self._reconnect_delay)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]


class ParticipantListening:
    """``async with`` one participant's feed (a small object: a town hall holds thousands)."""

    __slots__ = ("_events", "_feed", "_participant_id", "_room")

    def __init__(self, events: ChannelFanOut, room: str, participant_id: str) -> None:
        self._events = events
        self._room = room
        self._participant_id = participant_id
        self._feed: ParticipantFeed | None = None

    async def __aenter__(self) -> ParticipantFeed:
        self._feed = await self._events.open_participant_feed(self._room, self._participant_id)
        return self._feed

    async def __aexit__(self, *_: object) -> None:
        if self._feed is not None:
            await self._events.close_participant_feed(self._room, self._participant_id, self._feed)
