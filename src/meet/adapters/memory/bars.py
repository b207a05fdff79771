"""``RoomBars`` cached in this process, in front of the durable bars."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from meet.domain.conference.bars import BarReason, RoomBars
from meet.domain.rooms.model import SfuRoomName


class MemoryRoomBars:
    """The rooms' bars, each room loaded from the durable bars on first use; every bar is written to the
    durable bars first, then here."""

    def __init__(self, durable: RoomBars) -> None:
        self._durable = durable
        self._rooms: dict[str, dict[str, datetime]] = {}

    async def loaded(self, room: SfuRoomName, now: datetime) -> dict[str, datetime]:
        bars = self._rooms.get(room)
        if bars is None:
            bars = self._rooms[room] = dict(await self._durable.active(room, now))
        return bars

    async def bar(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        await self._durable.bar(room, identity, until, reason)
        bars = self._rooms.get(room)
        if bars is not None:  # else the durable bars hold it for the room's first load
            bars[identity] = max(until, bars.get(identity, until))

    async def bar_many(self, room: SfuRoomName, identities: Sequence[str], until: datetime, reason: BarReason) -> None:
        if not identities:
            return
        await self._durable.bar_many(room, identities, until, reason)
        bars = self._rooms.get(room)
        if bars is not None:
            for identity in identities:
                bars[identity] = max(until, bars.get(identity, until))

    async def barred(self, room: SfuRoomName, identities: Sequence[str], now: datetime) -> frozenset[str]:
        if not identities:
            return frozenset()
        bars = await self.loaded(room, now)
        return frozenset(identity for identity in identities if bars.get(identity, now) > now)

    async def active(self, room: SfuRoomName, now: datetime) -> Mapping[str, datetime]:
        return {identity: until for identity, until in (await self.loaded(room, now)).items() if until > now}
