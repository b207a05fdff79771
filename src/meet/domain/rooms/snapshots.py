"""Rooms as this process last read them, for the hot paths that can check the room's stamp in the same
atomic step as their own work (the lobby's knock and poll): no database round trip per request, and a
change of the room still applies to the very next request of every process."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from meet.domain.rooms.lookup import RoomLocator, RoomVisit, room_name
from meet.domain.rooms.model import Room, RoomRef
from meet.domain.rooms.ports import RoomStamps
from meet.domain.shared.clock import Clock
from meet.domain.users.model import Viewer

# A copy is read again this often even when its stamp still holds: the bound on staleness if a change
# was committed but its stamp could not be renewed (the cache failed between the two).
MAX_AGE = timedelta(seconds=10)
CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class StampedVisit:
    """A visit and the stamp its room was read under (None: nothing to check, e.g. a temporary room)."""

    visit: RoomVisit
    stamp: str | None


@dataclass(frozen=True, slots=True)
class _Copy:
    room: Room
    stamp: str
    read_at: datetime


class RoomSnapshots:
    """Room lookups served from copies stamped by ``RoomStamps``; the caller's role is always read.

    A copy is taken under a stamp fetched *before* the room is read: a change committed earlier is in
    the read, and a change committed later renews the stamp, so the copy can never pass for newer than
    it is. Callers pass ``stamp`` on to the step that checks it and read again (``fresh=True``) when
    that step answers that the room changed.
    """

    def __init__(self, locator: RoomLocator, stamps: RoomStamps, clock: Clock) -> None:
        self._locator = locator
        self._stamps = stamps
        self._clock = clock
        self._copies: dict[str, _Copy] = {}

    async def stamped_visit(self, viewer: Viewer, id_or_slug: RoomRef, *, fresh: bool = False) -> StampedVisit:
        now = self._clock.now()
        _, name = room_name(id_or_slug)  # one copy per room name, however the caller spells it
        copy = None if fresh else self._copies.get(name)
        if copy is None or now - copy.read_at >= MAX_AGE:
            self._copies.pop(name, None)
            room, copy = await self._read(name, now)
            if copy is None:  # not a room a stamp covers: read as it is, every time
                return StampedVisit(RoomVisit(room=room, role=await self._locator.role_of(room, viewer)), None)
            self._remember(name, copy)
        room = dataclasses.replace(copy.room)  # callers may change theirs
        return StampedVisit(RoomVisit(room=room, role=await self._locator.role_of(room, viewer)), copy.stamp)

    async def _read(self, name: str, now: datetime) -> tuple[Room, _Copy | None]:
        first = await self._locator.locate(RoomRef(name))
        if first.is_temporary:
            return first, None
        stamp = await self._stamps.current(first.sfu_room_name)
        room = await self._locator.locate(RoomRef(name))
        if room.id != first.id:  # the name moved to another room meanwhile
            return room, None
        return room, _Copy(room, stamp, now)

    def _remember(self, name: str, copy: _Copy) -> None:
        if len(self._copies) >= CAPACITY:
            self._copies.pop(next(iter(self._copies)))  # the oldest
        self._copies[name] = copy
