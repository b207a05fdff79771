"""Room use cases: create, list, update, delete a room, and open it (the join)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from meet.domain.conference.join import Admission
from meet.domain.conference.model import ConnectionConfig
from meet.domain.rooms.errors import NotRoomAdmin, OwnerOnly
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration
from meet.domain.rooms.ports import (
    EntryGuard,
    RoomAccessRepository,
    RoomChangeListener,
    RoomDeletionListener,
    RoomRepository,
)
from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import Viewer


def require_user(viewer: Viewer) -> uuid.UUID:
    if viewer.user_id is None:
        raise AuthenticationRequired
    return viewer.user_id


async def require_admin(locator: RoomLocator, room: Room, viewer: Viewer) -> Role:
    """The caller's role in the room, which must be owner or administrator."""
    require_user(viewer)
    role = await locator.role_of(room, viewer)
    if role is None or not role.is_admin:
        raise NotRoomAdmin
    return role


@dataclass(frozen=True, slots=True)
class RoomView:
    """A room as one caller sees it: their role, and a connection when they may enter directly."""

    room: Room
    role: Role | None
    connection: ConnectionConfig | None = None

    @property
    def is_administrable(self) -> bool:
        return self.role is not None and self.role.is_admin


@dataclass(frozen=True, slots=True)
class RoomChanges:
    name: str | None = None
    access_level: AccessLevel | None = None
    configuration: RoomConfiguration | None = None


class CreateRoom:
    """A signed-in user creates a room and becomes its owner."""

    def __init__(self, rooms: RoomRepository, accesses: RoomAccessRepository, uow: UnitOfWork) -> None:
        self._rooms = rooms
        self._accesses = accesses
        self._uow = uow

    async def execute(
        self,
        viewer: Viewer,
        name: str,
        access_level: AccessLevel = AccessLevel.PUBLIC,
        configuration: RoomConfiguration | None = None,
    ) -> RoomView:
        user_id = require_user(viewer)
        room = await self._rooms.add(Room.create(name, access_level, configuration))
        await self._accesses.add(RoomAccess.grant(room.id, user_id, Role.OWNER))
        await self._uow.commit()
        return RoomView(room=room, role=Role.OWNER)


@dataclass(frozen=True, slots=True)
class RoomPage:
    items: Sequence[RoomView]
    total: int


class ListMyRooms:
    """The rooms the caller holds a role in, newest first."""

    def __init__(self, rooms: RoomRepository) -> None:
        self._rooms = rooms

    async def execute(self, viewer: Viewer, *, limit: int, offset: int) -> RoomPage:
        user_id = require_user(viewer)
        rows, total = await self._rooms.list_for_user(user_id, limit=limit, offset=offset)
        return RoomPage(items=[RoomView(room=room, role=role) for room, role in rows], total=total)


class IgnoreRoomChanges:
    async def room_changed(self, room: Room) -> None:  # noqa: ARG002 - the null listener
        return None


class UpdateRoom:
    """Owners and administrators change a room's name, access level or configuration."""

    def __init__(
        self,
        locator: RoomLocator,
        rooms: RoomRepository,
        uow: UnitOfWork,
        listener: RoomChangeListener,
    ) -> None:
        self._locator = locator
        self._rooms = rooms
        self._uow = uow
        self._listener = listener

    async def execute(self, viewer: Viewer, id_or_slug: str, changes: RoomChanges) -> RoomView:
        room = await self._locator.locate_registered(id_or_slug)
        role = await require_admin(self._locator, room, viewer)
        if changes.name is not None:
            room.rename(changes.name)
        if changes.access_level is not None:
            room.access_level = changes.access_level
        if changes.configuration is not None:
            room.configuration = changes.configuration
        room = await self._rooms.update(room)
        await self._uow.commit()
        await self._listener.room_changed(room)
        return RoomView(room=room, role=role)


class DeleteRoom:
    """Only an owner deletes a room; its accesses go with it, and whatever ``listener`` removes first."""

    def __init__(
        self, locator: RoomLocator, rooms: RoomRepository, uow: UnitOfWork, listener: RoomDeletionListener
    ) -> None:
        self._locator = locator
        self._rooms = rooms
        self._uow = uow
        self._listener = listener

    async def execute(self, viewer: Viewer, id_or_slug: str) -> None:
        room = await self._locator.locate_registered(id_or_slug)
        role = await require_admin(self._locator, room, viewer)
        if role is not Role.OWNER:
            raise OwnerOnly
        await self._listener.room_deleting(room)
        await self._rooms.delete(room.id)
        await self._uow.commit()


class NothingElseInRooms:
    """The null deletion listener: a room holds nothing but its accesses."""

    async def room_deleting(self, room: Room) -> None:  # noqa: ARG002 - the null listener
        return


class NobodyBarred:
    async def is_barred(self, room: Room, identity: str) -> bool:  # noqa: ARG002 - the null guard
        return False


class OpenRoom:
    """Anyone opens a room; those the join policy lets in directly get a connection config."""

    def __init__(self, locator: RoomLocator, admission: Admission, guard: EntryGuard) -> None:
        self._locator = locator
        self._admission = admission
        self._guard = guard

    async def execute(self, viewer: Viewer, id_or_slug: str, *, username: str | None) -> RoomView:
        room = await self._locator.locate(id_or_slug)
        role = await self._locator.role_of(room, viewer)
        if not room.lets_in_directly(authenticated=viewer.is_authenticated, role=role):
            return RoomView(room=room, role=role)
        if viewer.sub is not None and await self._guard.is_barred(room, viewer.sub):
            return RoomView(room=room, role=role)
        connection = self._admission.connect(room, viewer, role, requested_name=username)
        return RoomView(room=room, role=role, connection=connection)
