from __future__ import annotations

import uuid
from dataclasses import dataclass

from meet.domain.rooms.errors import NotRoomAdmin, RoomNotFound
from meet.domain.rooms.model import Role, Room
from meet.domain.rooms.ports import RoomReader
from meet.domain.shared.text import slugify
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


class RoomLocator:
    """Finds the room a path value names (a UUID is an id, anything else a slug) and the caller's role.

    A slug that names no registered room is a temporary public room when the policy allows it; a
    UUID that names no room is never one. This is the one authorization step every use case that
    acts on a room composes: ``visit`` for anyone, ``administered`` for its owners and administrators.
    """

    def __init__(self, rooms: RoomReader, policy: RoomPolicy) -> None:
        self._rooms = rooms
        self._policy = policy

    async def locate(self, id_or_slug: str) -> Room:
        try:
            room_id = uuid.UUID(id_or_slug)
        except ValueError:
            pass
        else:
            room = await self._rooms.room(room_id)
            if room is None:
                raise RoomNotFound
            return room
        slug = slugify(id_or_slug)
        if not slug:
            raise RoomNotFound
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

    async def visit(self, viewer: Viewer, id_or_slug: str) -> RoomVisit:
        room = await self.locate(id_or_slug)
        return RoomVisit(room=room, role=await self.role_of(room, viewer))

    async def administered(self, viewer: Viewer, id_or_slug: str) -> RoomVisit:
        """The registered room the caller owns or administers; anything else is refused."""
        room = await self.locate(id_or_slug)
        if room.is_temporary:
            raise RoomNotFound
        viewer.require_user_id()
        visit = RoomVisit(room=room, role=await self.role_of(room, viewer))
        if not visit.is_administrable:
            raise NotRoomAdmin
        return visit
