"""``RoomBars`` cached in Redis (``meet:lobby:{room}:bars``, beside the room's lobby keys, so a knock's
script checks them in its own step), in front of the durable bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as
from meet.adapters.redis.coalesced import CoalescedReads
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.keys import LobbyKeys, room_keys
from meet.domain.conference.bars import BarReason, RoomBars
from meet.domain.conference.door import DoorState
from meet.domain.conference.model import EntryVerdict
from meet.domain.conference.ports import EntryReading
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.clock import Clock

CACHE_TTL_MS = 3600 * 1000


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisRoomBars:
    """A cold cache (never loaded, or lost with a Redis restart) is filled from the durable bars before it
    answers; every bar is written to the durable bars first, then to the cache."""

    def __init__(self, client: RedisClient, durable: RoomBars) -> None:
        self._durable = durable
        self._load = scripts.Program(client, scripts.LoadBars, sharded=False)
        self._bar = scripts.Program(client, scripts.Bar, sharded=False)
        self._bar_many = scripts.Program(client, scripts.BarMany, sharded=False)
        self._barred = scripts.Program(client, scripts.Barred, sharded=False)

    async def load(self, room: SfuRoomName, now: datetime) -> None:
        active = await self._durable.active(room, now)
        bars = [(identity, ms(until)) for identity, until in active.items()]
        async with unavailable_as(LobbyUnavailable):
            await self._load(room_keys(room), scripts.LoadBars(cache_ttl=CACHE_TTL_MS, bars=bars))

    async def remember(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        """Only the durable copy (the caller's script wrote the cache already)."""
        await self._durable.bar(room, identity, until, reason)

    async def remember_many(
        self, room: SfuRoomName, identities: Sequence[str], until: datetime, reason: BarReason
    ) -> None:
        """Only the durable copies, in one write (the caller's script wrote the cache already)."""
        await self._durable.bar_many(room, identities, until, reason)

    async def bar_many(self, room: SfuRoomName, identities: Sequence[str], until: datetime, reason: BarReason) -> None:
        if not identities:
            return
        await self._durable.bar_many(room, identities, until, reason)
        args = scripts.BarMany(identities=identities, until_ms=ms(until), cache_ttl=CACHE_TTL_MS)
        async with unavailable_as(LobbyUnavailable):
            await self._bar_many(room_keys(room), args)

    async def bar(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        await self._durable.bar(room, identity, until, reason)
        async with unavailable_as(LobbyUnavailable):
            await self._bar(room_keys(room), scripts.Bar(identity=identity, until_ms=ms(until), cache_ttl=CACHE_TTL_MS))

    async def barred(self, room: SfuRoomName, identities: Sequence[str], now: datetime) -> frozenset[str]:
        if not identities:
            return frozenset()
        for _ in range(2):
            async with unavailable_as(LobbyUnavailable):
                answer = await self._barred(room_keys(room), scripts.Barred(identities=identities, now=ms(now)))
            if answer != b"cold":
                return frozenset(identity.decode() for identity in answer)
            await self.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")

    async def active(self, room: SfuRoomName, now: datetime) -> Mapping[str, datetime]:
        return await self._durable.active(room, now)


class RedisEntryCheck:
    """The join's ``EntryCheck``: the room's stamp and its bars, both under the room's hash tag, read in one
    round trip (a ``GET`` of the stamp when there is no one to check against the bars, else ``barred.lua``
    with the stamp), shared by the concurrent requests of a room that arrived before it was sent
    (``CoalescedReads``)."""

    def __init__(self, client: RedisClient, bars: RedisRoomBars, clock: Clock) -> None:
        self._client = client
        self._bars = bars
        self._clock = clock
        self._barred = scripts.Program(client, scripts.Barred, sharded=False)
        self._reads = CoalescedReads(self._read)

    async def check(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryVerdict:
        return (await self.read(room, stamp, identities)).verdict

    async def read(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryReading:
        if stamp is None and not identities:
            return EntryReading(EntryVerdict.CLEAR)
        current, barred, door = await self._reads.read(room, frozenset(identities))
        if stamp is not None and current != stamp:
            return EntryReading(EntryVerdict.STALE)
        verdict = EntryVerdict.BARRED if barred.intersection(identities) else EntryVerdict.CLEAR
        return EntryReading(verdict, door)

    async def _read(
        self, room: SfuRoomName, identities: frozenset[str]
    ) -> tuple[str | None, frozenset[str], DoorState]:
        """The room's stamp now, which of ``identities`` a bar holds now, and the room's door."""
        keys = LobbyKeys.of(room).stamped()
        for _ in range(2):
            now = self._clock.now()
            args = scripts.Barred(identities=sorted(identities), now=ms(now), with_stamp=True)
            async with unavailable_as(RedisUnavailable if not identities else LobbyUnavailable):
                answer = await self._barred(keys, args)
            if answer != b"cold":
                current, held, door = answer
                return _text(current or None), _texts(held), _door(door)
            await self._bars.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _texts(values: list[bytes]) -> frozenset[str]:
    return frozenset(_text(value) or "" for value in values)


def _door(answer: list[Any]) -> DoorState:
    """``barred.lua``'s door: {locked (0/1), ended_until (ms), seats taken, sent back, inside}."""
    locked, ended_until, taken, sent_back, inside = answer
    return DoorState(
        locked=bool(locked),
        ended_until_ms=int(ended_until),
        taken=int(taken),
        suspended=_texts(sent_back),
        inside=_texts(inside),
    )
