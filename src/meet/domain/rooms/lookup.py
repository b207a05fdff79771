from __future__ import annotations

import uuid
from dataclasses import dataclass

from meet.domain.rooms.errors import NotRoomAdmin, RoomNotFound
from meet.domain.rooms.model import Role, Room, RoomRef
from meet.domain.rooms.ports import RoomReader
from meet.domain.shared.text import MAX_SLUG_LENGTH, slugify
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    """Service-wide switches that shape how rooms are found."""

    allow_temporary_rooms: bool = True


@dataclass(frozen=True, slots=True)
class RoomVisit:
    """A room as one caller sees it: the room, and the role they hold in it (None: no role)."""

    room: Room
    role: Role | None

    @property
    def is_administrable(self) -> bool:
        return self.role is not None and self.role.is_admin


def room_name(id_or_slug: RoomRef) -> tuple[uuid.UUID, str] | tuple[None, str]:
    """The room id a path value spells (with its canonical spelling), or else the slug it names; every
    spelling of one room gives the same canonical name. Raises ``RoomNotFound`` when it can name none."""
    try:
        room_id = uuid.UUID(id_or_slug)
    except ValueError:
        pass
    else:
        return room_id, str(room_id)
    if len(id_or_slug) > 4 * MAX_SLUG_LENGTH:
        raise RoomNotFound  # no room's slug comes from so long a value; not worth slugifying
    slug = slugify(id_or_slug)
    if not slug or len(slug) > MAX_SLUG_LENGTH:
        raise RoomNotFound
    return None, slug


class RoomLocator:
    """Finds the room a path value names (a UUID is an id, anything else a slug) and the caller's role.

    A slug that names no registered room is a temporary public room when the policy allows it; a
    UUID that names no room is never one. This is the one authorization step every use case that
    acts on a room composes: ``visit`` for anyone, ``administered`` for its owners and administrators.
    """

    def __init__(self, rooms: RoomReader, policy: RoomPolicy) -> None:
        self._rooms = rooms
        self._policy = policy

    async def locate(self, id_or_slug: RoomRef) -> Room:
        room_id, slug = room_name(id_or_slug)
        if room_id is not None:
            room = await self._rooms.room(room_id)
            if room is None:
                raise RoomNotFound
            return room
        room = await self._rooms.room_by_slug(slug)
        if room is not None:
            return room
        if self._policy.allow_temporary_rooms:
            return Room.temporary(slug)
        raise RoomNotFound

    async def role_of(self, room: Room, viewer: Viewer) -> Role | None:
        if room.is_temporary or viewer.user_id is None:
            return None
        return await self._rooms.role_of(room.id, viewer.user_id)

    async def visit(self, viewer: Viewer, id_or_slug: RoomRef) -> RoomVisit:
        room = await self.locate(id_or_slug)
        return RoomVisit(room=room, role=await self.role_of(room, viewer))

    async def administered(self, viewer: Viewer, id_or_slug: RoomRef) -> RoomVisit:
        """The registered room the caller owns or administers; anything else is refused."""
        room = await self.locate(id_or_slug)
        if room.is_temporary:
            raise RoomNotFound
        viewer.require_user_id()
        visit = RoomVisit(room=room, role=await self.role_of(room, viewer))
        if not visit.is_administrable:
            raise NotRoomAdmin
        return visit
