from __future__ import annotations

import pytest

from meet.domain.rooms.errors import NotRoomAdmin, OwnerOnly, RoomNotFound, RoomSlugTaken
from meet.domain.rooms.model import AccessLevel, Role, RoomRef
from meet.domain.rooms.use_cases import (
    CreateRoom,
    CreateRoomRequest,
    DeleteRoom,
    DeleteRoomRequest,
    ListMyRooms,
    ListMyRoomsRequest,
    UpdateRoom,
    UpdateRoomRequest,
)
from meet.domain.shared.clock import SystemClock
from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.users.model import Viewer
from tests.doubles.null import IgnoreRoomChanges, NothingElseInRooms
from tests.unit.rooms.conftest import World


async def test_the_creator_becomes_owner(world: World) -> None:
    alice = await world.user("alice")
    view = await CreateRoom(world.uow, SystemClock()).execute(CreateRoomRequest(alice, "Daily"))
    assert view.role is Role.OWNER
    assert await world.reader.role_of(view.room.id, alice.user_id) is Role.OWNER  # type: ignore[arg-type]
    assert world.db.commits == 1


async def test_anonymous_cannot_create(world: World) -> None:
    with pytest.raises(AuthenticationRequired):
        await CreateRoom(world.uow, SystemClock()).execute(CreateRoomRequest(Viewer.anonymous(), "Daily"))


async def test_a_duplicate_slug_is_refused(world: World) -> None:
    alice = await world.user("alice")
    create = CreateRoom(world.uow, SystemClock())
    await create.execute(CreateRoomRequest(alice, "Daily"))
    with pytest.raises(RoomSlugTaken):
        await create.execute(CreateRoomRequest(alice, "daily!"))


async def test_rooms_are_listed_only_for_their_members(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    await world.room("One", alice=Role.OWNER)
    await world.room("Two", alice=Role.MEMBER, bob=Role.OWNER)
    page = await ListMyRooms(world.reader).execute(ListMyRoomsRequest(bob, limit=10, offset=0))
    assert [v.room.name for v in page.items] == ["Two"]
    assert page.total == 1
    page = await ListMyRooms(world.reader).execute(ListMyRoomsRequest(alice, limit=1, offset=0))
    assert page.total == 2
    assert len(page.items) == 1


@pytest.mark.parametrize(("role", "allowed"), [(Role.OWNER, True), (Role.ADMINISTRATOR, True), (Role.MEMBER, False)])
async def test_only_admins_update(world: World, role: Role, allowed: bool) -> None:
    alice = await world.user("alice")
    room = await world.room("Daily", alice=role)
    update = UpdateRoom(world.locator(), world.uow, world.stamps, IgnoreRoomChanges(), SystemClock())
    changes = UpdateRoomRequest(alice, RoomRef(str(room.id)), access_level=AccessLevel.RESTRICTED)
    if allowed:
        view = await update.execute(changes)
        assert view.room.access_level is AccessLevel.RESTRICTED
    else:
        with pytest.raises(NotRoomAdmin):
            await update.execute(changes)


@pytest.mark.parametrize(("role", "error"), [(Role.ADMINISTRATOR, OwnerOnly), (Role.MEMBER, NotRoomAdmin)])
async def test_only_owners_delete(world: World, role: Role, error: type[Exception]) -> None:
    alice = await world.user("alice")
    room = await world.room("Daily", alice=role)
    with pytest.raises(error):
        await DeleteRoom(world.locator(), world.uow, world.stamps, NothingElseInRooms(), SystemClock()).execute(
            DeleteRoomRequest(alice, RoomRef(room.slug))
        )
    assert await world.rooms.get(room.id) is not None


async def test_an_unknown_uuid_is_never_a_temporary_room(world: World) -> None:
    with pytest.raises(RoomNotFound):
        await world.locator().locate(RoomRef("123e4567-e89b-12d3-a456-426614174000"))


async def test_temporary_rooms_can_be_switched_off(world: World) -> None:
    assert (await world.locator().locate(RoomRef("Stand Up"))).slug == "stand-up"
    with pytest.raises(RoomNotFound):
        await world.locator(allow_temporary_rooms=False).locate(RoomRef("stand-up"))
