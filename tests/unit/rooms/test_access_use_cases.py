from __future__ import annotations

import pytest

from meet.domain.rooms.access_use_cases import (
    ChangeAccessRole,
    ChangeAccessRoleRequest,
    GrantAccess,
    GrantAccessRequest,
    ListAccesses,
    ListAccessesRequest,
    RevokeAccess,
    RevokeAccessRequest,
)
from meet.domain.rooms.errors import AccessAlreadyExists, LastOwnerProtected, NotRoomAdmin, OwnerOnly, UnknownUser
from meet.domain.rooms.model import Role, RoomRef
from meet.domain.shared.clock import SystemClock
from tests.unit.rooms.conftest import World


async def test_admins_grant_roles_by_email(world: World) -> None:
    alice = await world.user("alice")
    await world.user("bob", email="bob@example.org")
    room = await world.room(alice=Role.ADMINISTRATOR)
    access = await GrantAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
        GrantAccessRequest(alice, RoomRef(room.slug), role=Role.MEMBER, email="bob@example.org")
    )
    assert access.role is Role.MEMBER


async def test_granting_twice_conflicts(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    room = await world.room(alice=Role.OWNER, bob=Role.MEMBER)
    with pytest.raises(AccessAlreadyExists):
        await GrantAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            GrantAccessRequest(alice, RoomRef(room.slug), role=Role.MEMBER, user_id=bob.user_id)
        )


async def test_unknown_users_cannot_be_granted(world: World) -> None:
    alice = await world.user("alice")
    room = await world.room(alice=Role.OWNER)
    with pytest.raises(UnknownUser):
        await GrantAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            GrantAccessRequest(alice, RoomRef(room.slug), role=Role.MEMBER, email="nobody@example.org")
        )


async def test_only_owners_grant_owner(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    room = await world.room(alice=Role.ADMINISTRATOR)
    with pytest.raises(OwnerOnly):
        await GrantAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            GrantAccessRequest(alice, RoomRef(room.slug), role=Role.OWNER, user_id=bob.user_id)
        )


async def test_members_cannot_list_accesses(world: World) -> None:
    alice = await world.user("alice")
    room = await world.room(alice=Role.MEMBER)
    with pytest.raises(NotRoomAdmin):
        await ListAccesses(world.locator(), world.reader).execute(ListAccessesRequest(alice, RoomRef(room.slug)))


async def test_the_last_owner_can_be_neither_demoted_nor_removed(world: World) -> None:
    alice = await world.user("alice")
    room = await world.room(alice=Role.OWNER)
    (own,) = await world.accesses.list_for_room(room.id)
    with pytest.raises(LastOwnerProtected):
        await ChangeAccessRole(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            ChangeAccessRoleRequest(alice, RoomRef(room.slug), own.id, Role.MEMBER)
        )
    with pytest.raises(LastOwnerProtected):
        await RevokeAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            RevokeAccessRequest(alice, RoomRef(room.slug), own.id)
        )
    assert await world.reader.role_of(room.id, own.user_id) is Role.OWNER


async def test_an_owner_with_a_co_owner_can_step_down(world: World) -> None:
    alice, _ = await world.user("alice"), await world.user("bob")
    room = await world.room(alice=Role.OWNER, bob=Role.OWNER)
    own = await world.accesses.get_for_user(room.id, alice.user_id)  # type: ignore[arg-type]
    assert own is not None
    changed = await ChangeAccessRole(world.locator(), world.uow, world.stamps, SystemClock()).execute(
        ChangeAccessRoleRequest(alice, RoomRef(room.slug), own.id, Role.MEMBER)
    )
    assert changed.role is Role.MEMBER


async def test_administrators_cannot_touch_owners(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    room = await world.room(alice=Role.ADMINISTRATOR, bob=Role.OWNER)
    owner_access = await world.accesses.get_for_user(room.id, bob.user_id)  # type: ignore[arg-type]
    assert owner_access is not None
    with pytest.raises(OwnerOnly):
        await ChangeAccessRole(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            ChangeAccessRoleRequest(alice, RoomRef(room.slug), owner_access.id, Role.MEMBER)
        )
    with pytest.raises(OwnerOnly):
        await RevokeAccess(world.locator(), world.uow, world.stamps, SystemClock()).execute(
            RevokeAccessRequest(alice, RoomRef(room.slug), owner_access.id)
        )
