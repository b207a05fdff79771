from __future__ import annotations

import uuid
from dataclasses import dataclass

from meet.domain.rooms.errors import RoomNotFound
from meet.domain.rooms.model import Role, Room
from meet.domain.rooms.ports import RoleLookup, RoomLookup
from meet.domain.shared.text import MAX_SLUG_LENGTH, slugify
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class RoomPolicy:
    """Service-wide switches that shape how rooms are found."""

    allow_temporary_rooms: bool = True


class RoomLocator:
    """Finds the room a path value names: a UUID is an id, anything else a slug.

    A slug that names no registered room is a temporary public room when the policy allows
    it; a UUID that names no room is never one.
    """

    def __init__(self, rooms: RoomLookup, accesses: RoleLookup, policy: RoomPolicy) -> None:
        self._rooms = rooms
        self._accesses = accesses
        self._policy = policy

    async def locate(self, id_or_slug: str) -> Room:
        try:
            room_id = uuid.UUID(id_or_slug)
        except ValueError:
            pass
        else:
            room = await self._rooms.get(room_id)
            if room is None:
                raise RoomNotFound
            return room
        if len(id_or_slug) > 4 * MAX_SLUG_LENGTH:
            raise RoomNotFound  # no room's slug comes from so long a value; not worth slugifying
        slug = slugify(id_or_slug)
        if not slug or len(slug) > MAX_SLUG_LENGTH:
            raise RoomNotFound
        room = await self._rooms.get_by_slug(slug)
        if room is not None:
            return room
        if self._policy.allow_temporary_rooms:
            return Room.temporary(slug)
        raise RoomNotFound

    async def locate_registered(self, id_or_slug: str) -> Room:
        """Like ``locate`` but never answers a temporary room (for anything that needs an admin)."""
        room = await self.locate(id_or_slug)
        if room.is_temporary:
            raise RoomNotFound
        return room

    async def role_of(self, room: Room, viewer: Viewer) -> Role | None:
        if room.is_temporary or viewer.user_id is None:
            return None
        return await self._accesses.role_of(room.id, viewer.user_id)
