"""Rooms and roles as this process last read them, for the hot paths that check the room's stamp in the
same step as their own work (the join, the knock and poll, the waiting list): no database round trip
per request, and a change of the room or of a role in it still applies to the very next request of
every process."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from meet.domain.rooms.errors import NotRoomAdmin, RoomNotFound
from meet.domain.rooms.lookup import RoomLocator, RoomVisit, room_name
from meet.domain.rooms.model import Role, Room, RoomRef
from meet.domain.rooms.ports import RoomStamps
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.users.model import Viewer

# A copy is read again this often even when its stamp still holds: a last bound, behind the stamps', on
# a change whose commit outlasted its "changing" mark and whose renewal after the commit failed.
MAX_AGE = timedelta(seconds=10)
CAPACITY = 10_000  # rooms
ROLE_CAPACITY = 100_000  # roles, across every room's copy (about 200 bytes each)


@dataclass(frozen=True, slots=True)
class StampedVisit:
    """A visit and the stamp its room was read under (None: nothing to check, e.g. a temporary room)."""

    visit: RoomVisit
    stamp: str | None


@dataclass(slots=True)
class _Copy:
    room: Room
    stamp: str
    read_at: datetime
    # Roles read under the same stamp: every change of an access renews the room's stamp, so they are
    # stale together with the room, and evicted with it. None: the user holds no role.
    roles: dict[uuid.UUID, Role | None] = field(default_factory=dict)


class RoomSnapshots:
    """Room and role lookups served from copies stamped by ``RoomStamps``.

    A copy is taken under a stamp fetched *before* the room is read, and a role is added to it only
    while that stamp is kept: a change committed earlier is in the read, and a change committed later
    renews the stamp, so a copy can never pass for newer than it is. Callers pass ``stamp`` on to the
    step that checks it and read again (``fresh=True``) when that step answers that the room changed.
    When the stamps cannot be reached, the room is read from the database and no copy is kept.

    Memory is bounded: at most ``CAPACITY`` rooms and ``ROLE_CAPACITY`` roles, oldest copies first out,
    one copy per room name however the caller spells it.
    """

    def __init__(self, locator: RoomLocator, stamps: RoomStamps, clock: Clock) -> None:
        self._locator = locator
        self._stamps = stamps
        self._clock = clock
        self._copies: OrderedDict[str, _Copy] = OrderedDict()
        self._roles = 0
        self._reads: dict[str, asyncio.Future[tuple[Room, _Copy | None]]] = {}  # room name -> its read under way

    async def stamped_visit(self, viewer: Viewer, id_or_slug: RoomRef, *, fresh: bool = False) -> StampedVisit:
        now = self._clock.now()
        _, name = room_name(id_or_slug)  # one copy per room name, however the caller spells it
        copy = None if fresh else self._copies.get(name)
        if copy is None or now - copy.read_at >= MAX_AGE:
            self._forget(name)
            room, copy = await (self._read(name, now) if fresh else self._shared_read(name, now))
            if copy is None:  # not a room a stamp covers (or no stamp to be had): read as it is, every time
                room = dataclasses.replace(room)  # a read shared with other callers: theirs stays theirs
                return StampedVisit(RoomVisit(room=room, role=await self._locator.role_of(room, viewer)), None)
            if self._copies.get(name) is not copy:  # the first of the callers sharing the read keeps it
                self._remember(name, copy)
        room = dataclasses.replace(copy.room)  # callers may change theirs
        return StampedVisit(RoomVisit(room=room, role=await self._role(name, copy, viewer)), copy.stamp)

    @property
    def held(self) -> tuple[int, int]:
        """How many rooms and roles this process holds copies of."""
        return len(self._copies), self._roles

    async def stamped_administered(self, viewer: Viewer, id_or_slug: RoomRef, *, fresh: bool = False) -> StampedVisit:
        """The registered room the caller owns or administers, as ``RoomLocator.administered``; a refusal
        comes from a fresh read only (a copy may predate the caller's promotion)."""
        stamped = await self.stamped_visit(viewer, id_or_slug, fresh=fresh)
        if stamped.visit.room.is_temporary:
            raise RoomNotFound
        viewer.require_user_id()
        if not stamped.visit.is_administrable:
            if stamped.stamp is not None and not fresh:
                return await self.stamped_administered(viewer, id_or_slug, fresh=True)
            raise NotRoomAdmin
        return stamped

    async def _role(self, name: str, copy: _Copy, viewer: Viewer) -> Role | None:
        user_id = viewer.user_id
        if user_id is None:
            return None
        if user_id in copy.roles:
            return copy.roles[user_id]
        # Read now, under the copy's stamp (taken before): if an access changed since, the stamp did too.
        role = await self._locator.role_of(copy.room, viewer)
        if self._copies.get(name) is copy:  # not evicted meanwhile
            copy.roles[user_id] = role
            self._roles += 1
            self._trim(keep=name)
        return role

    async def _shared_read(self, name: str, now: datetime) -> tuple[Room, _Copy | None]:
        """The room's read under way, or a new one: the callers that find no copy share one read.

        A copy ages out, or a room is first visited, while hundreds of polls a second arrive; each would
        otherwise read the room (and its stamp) itself until the first read came back, a burst of round
        trips every ``MAX_AGE`` in a crowded room. Sharing it changes nothing a caller may rely on: the
        stamp is still taken before the room is read. A read that must start after the caller's own
        check (``fresh``) is never shared. A caller that goes away does not stop the read for the others.
        """
        reading = self._reads.get(name)
        if reading is None:
            reading = self._reads[name] = asyncio.ensure_future(self._read(name, now))
            reading.add_done_callback(lambda done: self._read_over(name, done))
        return await asyncio.shield(reading)

    def _read_over(self, name: str, done: asyncio.Future[tuple[Room, _Copy | None]]) -> None:
        if self._reads.get(name) is done:
            del self._reads[name]
        if not done.cancelled():
            done.exception()  # its callers all went away: the error is theirs, not the loop's to report

    async def _read(self, name: str, now: datetime) -> tuple[Room, _Copy | None]:
        first = await self._locator.locate(RoomRef(name))
        if first.is_temporary:
            return first, None
        try:
            stamp = await self._stamps.current(first.sfu_room_name)
        except ServiceUnavailable:
            return first, None  # read straight from the database, every time, until the stamps are back
        if stamp is None:  # a change is being committed: no copy may be taken until it is
            return first, None
        room = await self._locator.locate(RoomRef(name))
        if room.id != first.id:  # the name moved to another room meanwhile
            return room, None
        return room, _Copy(room, stamp, now)

    def _remember(self, name: str, copy: _Copy) -> None:
        self._forget(name)  # a concurrent read may have kept one meanwhile
        self._copies[name] = copy
        self._trim(keep=name)

    def _forget(self, name: str) -> None:
        copy = self._copies.pop(name, None)
        if copy is not None:
            self._roles -= len(copy.roles)

    def _trim(self, *, keep: str) -> None:
        while len(self._copies) > CAPACITY or self._roles > ROLE_CAPACITY:
            oldest = next((name for name in self._copies if name != keep), None)
            if oldest is not None:
                self._forget(oldest)
                continue
            roles = self._copies[keep].roles  # the only copy left holds too many roles: drop its oldest
            if not roles:
                return
            roles.pop(next(iter(roles)))
            self._roles -= 1
