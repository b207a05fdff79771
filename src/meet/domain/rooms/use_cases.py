"""Room use cases: create, list, update and delete a room."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from meet.domain.rooms.errors import OwnerOnly
from meet.domain.rooms.lookup import RoomLocator, RoomVisit
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration, RoomRef
from meet.domain.rooms.ports import RoomChangeListener, RoomDeletionListener, RoomReader, RoomStamps, RoomUnitOfWork
from meet.domain.shared.clock import Clock
from meet.domain.shared.events import Action, RoomEvent
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class CreateRoomRequest:
    """``None``: the creator's default (see ``RoomDefaults``), else public and the service's configuration."""

    viewer: Viewer
    name: str
    access_level: AccessLevel | None = None
    configuration: RoomConfiguration | None = None


class CreateRoom:
    """A signed-in user creates a room and becomes its owner; what the request leaves out, the creator's
    room defaults fill in."""

    def __init__(self, uow: RoomUnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def execute(self, request: CreateRoomRequest) -> RoomVisit:
        user_id = request.viewer.require_user_id()
        async with self._uow.begin() as tx:
            defaults = await tx.room_defaults.get(user_id)
            room = Room.create(
                request.name,
                defaults.access_level_for(request.access_level),
                defaults.configuration_for(request.configuration),
            )
            room = await tx.rooms.add(room)
            await tx.accesses.add(RoomAccess.grant(room.id, user_id, Role.OWNER))
            await tx.audit.append(
                RoomEvent(
                    room.id, Action.ROOM_CREATED, self._clock.now(), request.viewer.actor, details=_described(room)
                )
            )
        return RoomVisit(room=room, role=Role.OWNER)


@dataclass(frozen=True, slots=True)
class ListMyRoomsRequest:
    viewer: Viewer
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class RoomPage:
    items: Sequence[RoomVisit]
    total: int


class ListMyRooms:
    """The rooms the caller holds a role in, newest first."""

    def __init__(self, rooms: RoomReader) -> None:
        self._rooms = rooms

    async def execute(self, request: ListMyRoomsRequest) -> RoomPage:
        user_id = request.viewer.require_user_id()
        rows, total = await self._rooms.rooms_of(user_id, limit=request.limit, offset=request.offset)
        return RoomPage(items=[RoomVisit(room=room, role=role) for room, role in rows], total=total)


@asynccontextmanager
async def renewing(stamps: RoomStamps, room: Room) -> AsyncIterator[None]:
    """Around a change of ``room`` or of a role in it: its stamp is marked as changing before (when the
    stamps cannot be reached, nothing is changed; no copy is taken while the mark lasts) and renewed
    after the change is committed, or refused. Should that renewal fail, the mark expires into a new
    stamp."""
    await stamps.renew(room.sfu_room_name, changing=True)
    try:
        yield
    finally:
        await stamps.renew(room.sfu_room_name)


@dataclass(frozen=True, slots=True)
class UpdateRoomRequest:
    """What to change; ``None`` leaves that part as it is."""

    viewer: Viewer
    room: RoomRef
    name: str | None = None
    access_level: AccessLevel | None = None
    configuration: RoomConfiguration | None = None


class UpdateRoom:
    """Owners and administrators change a room's name, access level or configuration."""

    def __init__(
        self,
        locator: RoomLocator,
        uow: RoomUnitOfWork,
        stamps: RoomStamps,
        listener: RoomChangeListener,
        clock: Clock,
    ) -> None:
        self._locator = locator
        self._uow = uow
        self._stamps = stamps
        self._listener = listener
        self._clock = clock

    async def execute(self, request: UpdateRoomRequest) -> RoomVisit:
        visit = await self._locator.administered(request.viewer, request.room)
        room = visit.room
        before = _described(room) | {"configuration": repr(room.configuration)}
        if request.name is not None:
            room.rename(request.name)
        if request.access_level is not None:
            room.access_level = request.access_level
        if request.configuration is not None:
            room.configuration = request.configuration
        after = _described(room) | {"configuration": repr(room.configuration)}
        changed = ",".join(sorted(key for key in after if after[key] != before[key]))
        async with renewing(self._stamps, room), self._uow.begin() as tx:
            room = await tx.rooms.update(room)
            details = _described(room) | {"changed": changed}
            await tx.audit.append(
                RoomEvent(room.id, Action.ROOM_UPDATED, self._clock.now(), request.viewer.actor, details=details)
            )
        await self._listener.room_changed(room)
        return RoomVisit(room=room, role=visit.role)


@dataclass(frozen=True, slots=True)
class DeleteRoomRequest:
    viewer: Viewer
    room: RoomRef


class DeleteRoom:
    """Only an owner deletes a room; its accesses go with it, and whatever ``listener`` removes first."""

    def __init__(
        self,
        locator: RoomLocator,
        uow: RoomUnitOfWork,
        stamps: RoomStamps,
        listener: RoomDeletionListener,
        clock: Clock,
    ) -> None:
        self._locator = locator
        self._uow = uow
        self._stamps = stamps
        self._listener = listener
        self._clock = clock

    async def execute(self, request: DeleteRoomRequest) -> None:
        visit = await self._locator.administered(request.viewer, request.room)
        if visit.role is not Role.OWNER:
            raise OwnerOnly
        await self._listener.room_deleting(visit.room)
        async with renewing(self._stamps, visit.room), self._uow.begin() as tx:
            await tx.rooms.delete(visit.room.id)
            await tx.audit.append(
                RoomEvent(
                    visit.room.id,
                    Action.ROOM_DELETED,
                    self._clock.now(),
                    request.viewer.actor,
                    details=_described(visit.room),
                )
            )


def _described(room: Room) -> dict[str, str | int | bool | None]:
    return {"name": room.name, "slug": room.slug, "access_level": room.access_level.value}
