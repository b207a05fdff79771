"""Room access use cases: who holds which role, under the owner rules.

Rules: owners and administrators manage accesses; only an owner grants ``owner`` or
touches an owner's access; the last owner can be neither removed nor demoted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from meet.domain.rooms.errors import (
    AccessNotFound,
    LastOwnerProtected,
    OwnerOnly,
    UnknownUser,
)
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Role, Room, RoomAccess
from meet.domain.rooms.ports import RoomAccessRepository
from meet.domain.rooms.use_cases import require_admin
from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import User, Viewer
from meet.domain.users.ports import UserRepository


class ListAccesses:
    def __init__(self, locator: RoomLocator, accesses: RoomAccessRepository) -> None:
        self._locator = locator
        self._accesses = accesses

    async def execute(self, viewer: Viewer, id_or_slug: str) -> Sequence[RoomAccess]:
        room = await self._locator.locate_registered(id_or_slug)
        await require_admin(self._locator, room, viewer)
        return await self._accesses.list_for_room(room.id)


class GrantAccess:
    """Give a user who has signed in once a role in the room."""

    def __init__(
        self,
        locator: RoomLocator,
        accesses: RoomAccessRepository,
        users: UserRepository,
        uow: UnitOfWork,
    ) -> None:
        self._locator = locator
        self._accesses = accesses
        self._users = users
        self._uow = uow

    async def execute(
        self,
        viewer: Viewer,
        id_or_slug: str,
        *,
        role: Role,
        user_id: uuid.UUID | None = None,
        email: str | None = None,
    ) -> RoomAccess:
        room = await self._locator.locate_registered(id_or_slug)
        caller_role = await require_admin(self._locator, room, viewer)
        if role is Role.OWNER and caller_role is not Role.OWNER:
            raise OwnerOnly("Only an owner may grant the owner role.")
        user = await self._find_user(user_id, email)
        access = await self._accesses.add(RoomAccess.grant(room.id, user.id, role))
        await self._uow.commit()
        return access

    async def _find_user(self, user_id: uuid.UUID | None, email: str | None) -> User:
        if (user_id is None) == (email is None):
            raise InvalidInput("Give exactly one of user_id or email.", field="user")
        user = await self._users.get(user_id) if user_id else await self._users.get_by_email(email or "")
        if user is None:
            raise UnknownUser
        return user


async def _access_in_room(accesses: RoomAccessRepository, room: Room, access_id: uuid.UUID) -> RoomAccess:
    access = await accesses.get(access_id)
    if access is None or access.room_id != room.id:
        raise AccessNotFound
    return access


class ChangeAccessRole:
    def __init__(self, locator: RoomLocator, accesses: RoomAccessRepository, uow: UnitOfWork) -> None:
        self._locator = locator
        self._accesses = accesses
        self._uow = uow

    async def execute(self, viewer: Viewer, id_or_slug: str, access_id: uuid.UUID, role: Role) -> RoomAccess:
        room = await self._locator.locate_registered(id_or_slug)
        caller_role = await require_admin(self._locator, room, viewer)
        access = await _access_in_room(self._accesses, room, access_id)
        touches_owner = Role.OWNER in (role, access.role)
        if touches_owner and caller_role is not Role.OWNER:
            raise OwnerOnly("Only an owner may grant the owner role or change an owner's access.")
        if access.role is Role.OWNER and role is not Role.OWNER:
            await _protect_last_owner(self._accesses, room)
        access.role = role
        access = await self._accesses.update(access)
        await self._uow.commit()
        return access


class RevokeAccess:
    def __init__(self, locator: RoomLocator, accesses: RoomAccessRepository, uow: UnitOfWork) -> None:
        self._locator = locator
        self._accesses = accesses
        self._uow = uow

    async def execute(self, viewer: Viewer, id_or_slug: str, access_id: uuid.UUID) -> None:
        room = await self._locator.locate_registered(id_or_slug)
        caller_role = await require_admin(self._locator, room, viewer)
        access = await _access_in_room(self._accesses, room, access_id)
        if access.role is Role.OWNER:
            if caller_role is not Role.OWNER:
                raise OwnerOnly("Only an owner may remove an owner.")
            await _protect_last_owner(self._accesses, room)
        await self._accesses.delete(access.id)
        await self._uow.commit()


async def _protect_last_owner(accesses: RoomAccessRepository, room: Room) -> None:
    if await accesses.count_owners(room.id) <= 1:
        raise LastOwnerProtected
