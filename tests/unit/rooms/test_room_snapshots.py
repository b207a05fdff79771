"""Copies of rooms: read again when their stamp changes or they are old, never shared, the role always read."""

from __future__ import annotations

import uuid

from meet.domain.rooms.lookup import RoomLocator, RoomPolicy
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomRef
from meet.domain.rooms.snapshots import MAX_AGE, RoomSnapshots
from meet.domain.users.model import Viewer
from tests.doubles.rooms import MemoryReader
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World


class CountingReader(MemoryReader):
    reads = 0

    async def room(self, room_id: uuid.UUID) -> Room | None:
        self.reads += 1
        return await super().room(room_id)

    async def room_by_slug(self, slug: str) -> Room | None:
        self.reads += 1
        return await super().room_by_slug(slug)


def snapshots(world: World, clock: FakeClock) -> RoomSnapshots:
    return RoomSnapshots(world.locator(), world.stamps, clock)


async def test_a_change_whose_stamp_was_not_renewed_is_read_once_the_copy_is_old(world: World) -> None:
    clock, room = FakeClock(), await world.room("Board")
    rooms = snapshots(world, clock)
    first = await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))
    room.access_level = AccessLevel.RESTRICTED
    await world.rooms.update(room)  # committed, but its stamp could not be renewed (the cache failed)
    held = await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))
    assert (held.visit.room.access_level, held.stamp) == (AccessLevel.PUBLIC, first.stamp)
    clock.advance(MAX_AGE.total_seconds())
    again = await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))
    assert again.visit.room.access_level is AccessLevel.RESTRICTED


async def test_a_fresh_visit_reads_the_room_again_under_its_current_stamp(world: World) -> None:
    clock, room = FakeClock(), await world.room("Board")
    rooms = snapshots(world, clock)
    first = await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))
    await world.stamps.renew(room.sfu_room_name)
    fresh = await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)), fresh=True)
    assert fresh.stamp == await world.stamps.current(room.sfu_room_name) != first.stamp


async def test_a_caller_changing_its_room_does_not_change_the_copy(world: World) -> None:
    clock, room = FakeClock(), await world.room("Board")
    rooms = snapshots(world, clock)
    (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))).visit.room.rename("Scribbled")
    assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))).visit.room.name == "Board"


async def test_the_callers_role_is_read_on_every_visit(world: World) -> None:
    clock, alice, room = FakeClock(), await world.user("alice"), await world.room("Board")
    rooms = snapshots(world, clock)
    assert (await rooms.stamped_visit(alice, RoomRef(str(room.id)))).visit.role is None
    assert alice.user_id is not None
    await world.accesses.add(RoomAccess.grant(room.id, alice.user_id, Role.ADMINISTRATOR))
    assert (await rooms.stamped_visit(alice, RoomRef(str(room.id)))).visit.role is Role.ADMINISTRATOR


async def test_a_temporary_room_has_no_stamp_to_check(world: World) -> None:
    visit = await snapshots(world, FakeClock()).stamped_visit(Viewer.anonymous(), RoomRef("coffee-corner"))
    assert (visit.visit.room.is_temporary, visit.stamp) == (True, None)


async def test_every_spelling_of_a_rooms_name_shares_one_copy(world: World) -> None:
    room, reader = await world.room("Board"), CountingReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    for spelling in ("board", "Board", "BOARD!", " board ", str(room.id), str(room.id).upper()):
        assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(spelling))).visit.room.id == room.id
    assert reader.reads == 4  # twice for the slug, twice for the id: each read once, under its stamp
