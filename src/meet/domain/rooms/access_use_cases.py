"""Room access use cases: who holds which role, under the owner rules.

Rules: owners and administrators manage accesses; only an owner grants ``owner`` or
touches an owner's access; the last owner can be neither removed nor demoted. Every change renews the
room's stamp (``renewing``): processes keep copies of roles under it, and read them again at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from meet.domain.rooms.errors import AccessNotFound, LastOwnerProtected, UnknownUser
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Role, Room, RoomAccess, RoomRef
from meet.domain.rooms.ports import RoomAccessRepository, RoomReader, RoomStamps, RoomUnitOfWork
from meet.domain.rooms.use_cases import renewing
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.events import Action, RoomEvent, user
from meet.domain.users.model import User, Viewer
from meet.domain.users.ports import UserRepository


@dataclass(frozen=True, slots=True)
class ListAccessesRequest:
    viewer: Viewer
    room: RoomRef


class ListAccesses:
    def __init__(self, locator: RoomLocator, rooms: RoomReader) -> None:
        self._locator = locator
        self._rooms = rooms

    async def execute(self, request: ListAccessesRequest) -> Sequence[RoomAccess]:
        visit = await self._locator.administered(request.viewer, request.room)
        return await self._rooms.accesses_of(visit.room.id)


@dataclass(frozen=True, slots=True)
class GrantAccessRequest:
    """Exactly one of ``user_id`` and ``email`` names the user."""

    viewer: Viewer
    room: RoomRef
    role: Role
    user_id: uuid.UUID | None = None
    email: str | None = None


class GrantAccess:
    """Give a user who has signed in once a role in the room."""

    def __init__(self, locator: RoomLocator, uow: RoomUnitOfWork, stamps: RoomStamps, clock: Clock) -> None:
        self._locator = locator
        self._uow = uow
        self._stamps = stamps
        self._clock = clock

    async def execute(self, request: GrantAccessRequest) -> RoomAccess:
        visit = await self._locator.administered(request.viewer, request.room)
        RoomAccess.check_grantable(request.role, by=visit.role)
        async with renewing(self._stamps, visit.room), self._uow.begin() as tx:
            grantee = await _find_user(tx.users, request.user_id, request.email)
            access = await tx.accesses.add(RoomAccess.grant(visit.room.id, grantee.id, request.role))
            await tx.audit.append(
                _access_event(Action.ACCESS_GRANTED, self._clock.now(), request.viewer, grantee, access)
            )
            return access


async def _find_user(users: UserRepository, user_id: uuid.UUID | None, email: str | None) -> User:
    if (user_id is None) == (email is None):
        raise InvalidInput("Give exactly one of user_id or email.", field="user")
    user = await users.get(user_id) if user_id else await users.get_by_email(email or "")
    if user is None:
        raise UnknownUser
    return user


async def _access_in_room(accesses: RoomAccessRepository, room: Room, access_id: uuid.UUID) -> RoomAccess:
    access = await accesses.get(access_id)
    if access is None or access.room_id != room.id:
        raise AccessNotFound
    return access


async def _protect_last_owner(accesses: RoomAccessRepository, room: Room) -> None:
    if await accesses.count_owners(room.id) <= 1:
        raise LastOwnerProtected


@dataclass(frozen=True, slots=True)
class ChangeAccessRoleRequest:
    viewer: Viewer
    room: RoomRef
    access_id: uuid.UUID
    role: Role


class ChangeAccessRole:
    def __init__(self, locator: RoomLocator, uow: RoomUnitOfWork, stamps: RoomStamps, clock: Clock) -> None:
        self._locator = locator
        self._uow = uow
        self._stamps = stamps
        self._clock = clock

    async def execute(self, request: ChangeAccessRoleRequest) -> RoomAccess:
        visit = await self._locator.administered(request.viewer, request.room)
        async with renewing(self._stamps, visit.room), self._uow.begin() as tx:
            access = await _access_in_room(tx.accesses, visit.room, request.access_id)
            was_owner, previous = access.role is Role.OWNER, access.role
            access.change_role(request.role, by=visit.role)
            if was_owner and request.role is not Role.OWNER:
                await _protect_last_owner(tx.accesses, visit.room)
            access = await tx.accesses.update(access)
            holder = await tx.users.get(access.user_id)
            event = _access_event(Action.ACCESS_CHANGED, self._clock.now(), request.viewer, holder, access)
            await tx.audit.append(replace(event, details={**event.details, "previous_role": previous.value}))
            return access


@dataclass(frozen=True, slots=True)
class RevokeAccessRequest:
    viewer: Viewer
    room: RoomRef
    access_id: uuid.UUID


class RevokeAccess:
    def __init__(self, locator: RoomLocator, uow: RoomUnitOfWork, stamps: RoomStamps, clock: Clock) -> None:
        self._locator = locator
        self._uow = uow
        self._stamps = stamps
        self._clock = clock

    async def execute(self, request: RevokeAccessRequest) -> None:
        visit = await self._locator.administered(request.viewer, request.room)
        async with renewing(self._stamps, visit.room), self._uow.begin() as tx:
            access = await _access_in_room(tx.accesses, visit.room, request.access_id)
            access.check_revocable(by=visit.role)
            if access.role is Role.OWNER:
                await _protect_last_owner(tx.accesses, visit.room)
            await tx.accesses.delete(access.id)
            holder = await tx.users.get(access.user_id)
            await tx.audit.append(
                _access_event(Action.ACCESS_REVOKED, self._clock.now(), request.viewer, holder, access)
            )


def _access_event(action: Action, at: datetime, viewer: Viewer, holder: User | None, access: RoomAccess) -> RoomEvent:
    subject = user(holder.sub, holder.full_name) if holder is not None else {"kind": "user", "id": None, "name": None}
    details = {"role": access.role.value, "access_id": str(access.id)}
    return RoomEvent(access.room_id, action, at, viewer.actor, subject=subject, details=details)
