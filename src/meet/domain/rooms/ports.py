from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from meet.domain.rooms.model import Role, Room, RoomAccess


class RoomLookup(Protocol):
    """Finds one room: the question nearly every request starts with."""

    async def get(self, room_id: uuid.UUID) -> Room | None: ...

    async def get_by_slug(self, slug: str) -> Room | None: ...


class RoleLookup(Protocol):
    """Says which role a user holds in a room, if any."""

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None: ...


class RoomRepository(RoomLookup, Protocol):
    """Stores rooms; ``slug`` is unique (``add``/``update`` raise ``RoomSlugTaken``)."""

    async def add(self, room: Room) -> Room: ...

    async def update(self, room: Room) -> Room: ...

    async def delete(self, room_id: uuid.UUID) -> None: ...

    async def list_for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[tuple[Room, Role]], int]:
        """Rooms the user holds a role in, newest first, with the total count."""
        ...


class RoomAccessRepository(RoleLookup, Protocol):
    """Stores who holds which role in which room; one access per (room, user)."""

    async def get(self, access_id: uuid.UUID) -> RoomAccess | None: ...

    async def get_for_user(self, room_id: uuid.UUID, user_id: uuid.UUID) -> RoomAccess | None: ...

    async def list_for_room(self, room_id: uuid.UUID) -> Sequence[RoomAccess]: ...

    async def count_owners(self, room_id: uuid.UUID) -> int: ...

    async def add(self, access: RoomAccess) -> RoomAccess:
        """Raise ``AccessAlreadyExists`` when the user already holds a role in the room."""
        ...

    async def update(self, access: RoomAccess) -> RoomAccess: ...

    async def delete(self, access_id: uuid.UUID) -> None: ...


class RoomChangeListener(Protocol):
    """Told after a room's changed settings were committed (e.g. to update the live SFU room)."""

    async def room_changed(self, room: Room) -> None: ...


class RoomDeletionListener(Protocol):
    """Told before a room is deleted, in the same unit of work; raising a domain error keeps the room."""

    async def room_deleting(self, room: Room) -> None: ...


class EntryGuard(Protocol):
    """Says whether an identity is currently kept out of a room (e.g. after being removed)."""

    async def is_barred(self, room: Room, identity: str) -> bool: ...
