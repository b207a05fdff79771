"""Each change of a room, of its accesses and of its recordings appends one event in its transaction."""

from __future__ import annotations

import pytest

from meet.domain.rooms.access_use_cases import (
    ChangeAccessRole,
    ChangeAccessRoleRequest,
    GrantAccess,
    GrantAccessRequest,
    RevokeAccess,
    RevokeAccessRequest,
)
from meet.domain.rooms.errors import LastOwnerProtected
from meet.domain.rooms.model import AccessLevel, Role, RoomRef
from meet.domain.rooms.use_cases import (
    CreateRoom,
    CreateRoomRequest,
    DeleteRoom,
    DeleteRoomRequest,
    UpdateRoom,
    UpdateRoomRequest,
)
from meet.domain.shared.events import Action, ActorKind
from tests.doubles.null import IgnoreRoomChanges, NothingElseInRooms
from tests.doubles.rooms import MemoryAuditLog
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World


async def test_room_and_access_changes_are_each_logged_once(world: World) -> None:
    clock = FakeClock()
    alice = await world.user("alice")
    await world.user("bob", email="bob@example.org")
    created = await CreateRoom(world.uow, clock).execute(CreateRoomRequest(alice, "Daily"))
    room = created.room
    update = UpdateRoom(world.locator(), world.uow, world.stamps, IgnoreRoomChanges(), clock)
    await update.execute(UpdateRoomRequest(alice, RoomRef(room.slug), access_level=AccessLevel.RESTRICTED))
    granted = await GrantAccess(world.locator(), world.uow, world.stamps, clock).execute(
        GrantAccessRequest(alice, RoomRef(room.slug), Role.MEMBER, email="bob@example.org")
    )
    await ChangeAccessRole(world.locator(), world.uow, world.stamps, clock).execute(
        ChangeAccessRoleRequest(alice, RoomRef(room.slug), granted.id, Role.ADMINISTRATOR)
    )
    await RevokeAccess(world.locator(), world.uow, world.stamps, clock).execute(
        RevokeAccessRequest(alice, RoomRef(room.slug), granted.id)
    )
    own = next(access for access in world.db.accesses.values() if access.role is Role.OWNER)
    with pytest.raises(LastOwnerProtected):  # refused: nothing took effect, nothing is logged
        await RevokeAccess(world.locator(), world.uow, world.stamps, clock).execute(
            RevokeAccessRequest(alice, RoomRef(room.slug), own.id)
        )
    delete = DeleteRoom(world.locator(), world.uow, world.stamps, NothingElseInRooms(), clock)
    await delete.execute(DeleteRoomRequest(alice, RoomRef(room.slug)))

    assert MemoryAuditLog(world.db).actions(room.id) == [
        Action.ROOM_CREATED,
        Action.ROOM_UPDATED,
        Action.ACCESS_GRANTED,
        Action.ACCESS_CHANGED,
        Action.ACCESS_REVOKED,
        Action.ROOM_DELETED,
    ]
    events = world.db.events
    assert all(event.actor.kind is ActorKind.USER and event.actor.id == "alice" for event in events)
    assert events[1].details["changed"] == "access_level"
    assert events[2].subject == {"kind": "user", "id": "bob", "name": "Bob"}
    assert events[3].details == {"role": "administrator", "previous_role": "member", "access_id": str(granted.id)}
    assert all(event.at == clock.now() for event in events)
