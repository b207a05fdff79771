from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from meet.domain.rooms.model import Role, Room, RoomAccess, RoomDefaults, SfuRoomName
from meet.domain.shared.events import AuditLog
from meet.domain.users.model import User
from meet.domain.users.ports import UserRepository


class RoomReader(Protocol):
    """Read model of rooms and roles, outside any transaction: what nearly every request starts with."""

    async def room(self, room_id: uuid.UUID) -> Room | None: ...

    async def room_by_slug(self, slug: str) -> Room | None: ...

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None: ...

    async def rooms_of(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[tuple[Room, Role]], int]:
        """Rooms the user holds a role in, newest first, with the total count."""
        ...

    async def accesses_of(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        """Who holds which role in the room, oldest first."""
        ...


class RoomRepository(Protocol):
    """Rooms inside a transaction; ``slug`` is unique (``add``/``update`` raise ``RoomSlugTaken``)."""

    async def get(self, room_id: uuid.UUID) -> Room | None: ...

    async def add(self, room: Room) -> Room: ...

    async def update(self, room: Room) -> Room:
        """Raise ``RoomNotFound`` when the room is gone."""
        ...

    async def delete(self, room_id: uuid.UUID) -> None: ...


class RoomAccessRepository(Protocol):
    """Who holds which role in which room, inside a transaction; one access per (room, user)."""

    async def get(self, access_id: uuid.UUID) -> RoomAccess | None: ...

    async def get_for_user(self, room_id: uuid.UUID, user_id: uuid.UUID) -> RoomAccess | None: ...

    async def list_for_room(self, room_id: uuid.UUID) -> Sequence[RoomAccess]: ...

    async def count_owners(self, room_id: uuid.UUID) -> int: ...

    async def add(self, access: RoomAccess) -> RoomAccess:
        """Raise ``AccessAlreadyExists`` when the user already holds a role in the room."""
        ...

    async def update(self, access: RoomAccess) -> RoomAccess: ...

    async def delete(self, access_id: uuid.UUID) -> None: ...


class RoomDefaultsRepository(Protocol):
    """The defaults of the rooms each user creates, inside a transaction (none set: empty defaults)."""

    async def get(self, user_id: uuid.UUID) -> RoomDefaults: ...

    async def set(self, user_id: uuid.UUID, defaults: RoomDefaults) -> None: ...


class ProfileReader(Protocol):
    """Read model of a user with the defaults of the rooms they create; None when there is no such user."""

    async def profile(self, user_id: uuid.UUID) -> tuple[User, RoomDefaults] | None: ...


class RoomTransaction(Protocol):
    @property
    def audit(self) -> AuditLog: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def rooms(self) -> RoomRepository: ...

    @property
    def accesses(self) -> RoomAccessRepository: ...

    @property
    def room_defaults(self) -> RoomDefaultsRepository: ...


class RoomUnitOfWork(Protocol):
    """Opens a transaction: its changes are committed when the block ends, rolled back when it raises."""

    def begin(self) -> AbstractAsyncContextManager[RoomTransaction]: ...


class RoomChangeListener(Protocol):
    """Told after a room's changed settings were committed (e.g. to update the live SFU room)."""

    async def room_changed(self, room: Room) -> None: ...


class RoomDeletionListener(Protocol):
    """Told before a room is deleted; raising a domain error keeps the room."""

    async def room_deleting(self, room: Room) -> None: ...


class RoomStamps(Protocol):
    """A token per room that a change of the room or of a role in it replaces, kept where the requests'
    own atomic steps read it.

    A process may keep a copy of a room (and of roles in it) read under a stamp; a step that checks the
    stamp (the join's, the knock's, the waiting list's) refuses when it is no longer the room's, so no
    change waits for a copy to expire. ``room`` is the room's SFU name. Adapters raise a
    ``ServiceUnavailable`` when their backing service is down.
    """

    async def current(self, room: SfuRoomName) -> str | None:
        """The room's stamp, a new one when it has none (never seen, or lost with a cache); None while
        a change is being committed (no copy may be taken then)."""
        ...

    async def renew(self, room: SfuRoomName, *, changing: bool = False) -> None:
        """Replace the room's stamp: every copy read under the old one is stale from now on. ``changing``
        marks a change about to be committed: until the next ``renew`` (or a bounded time, should that
        renewal never come) no copy is taken."""
        ...

    async def is_current(self, room: SfuRoomName, stamp: str) -> bool:
        """Whether ``stamp`` is still the room's (one round trip)."""
        ...
