"""Copies of rooms and roles: read again when their stamp changes or they are old, never shared, bounded."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.rooms import snapshots as snapshots_module
from meet.domain.rooms.errors import NotRoomAdmin
from meet.domain.rooms.lookup import RoomLocator, RoomPolicy
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomRef
from meet.domain.rooms.snapshots import MAX_AGE, RoomSnapshots
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.users.model import Viewer
from tests.doubles.rooms import MemoryDatabase, MemoryReader
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World


class CountingReader(MemoryReader):
    reads = 0
    role_reads = 0

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        self.role_reads += 1
        return await super().role_of(room_id, user_id)

    async def room(self, room_id: uuid.UUID) -> Room | None:
        self.reads += 1
        return await super().room(room_id)

    async def room_by_slug(self, slug: str) -> Room | None:
        self.reads += 1
        return await super().room_by_slug(slug)


class SlowReader(CountingReader):
    """A database that answers when the test says so: reads overlap, as under load."""

    def __init__(self, db: MemoryDatabase) -> None:
        super().__init__(db)
        self.answer = asyncio.Event()

    async def room(self, room_id: uuid.UUID) -> Room | None:
        await self.answer.wait()
        return await super().room(room_id)


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


async def test_the_callers_role_is_kept_with_the_room_until_an_access_change_renews_its_stamp(world: World) -> None:
    alice, room, reader = await world.user("alice"), await world.room("Board"), CountingReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    held = await rooms.stamped_visit(alice, RoomRef(str(room.id)))
    assert held.visit.role is None
    assert alice.user_id is not None
    await world.accesses.add(RoomAccess.grant(room.id, alice.user_id, Role.ADMINISTRATOR))
    # Without a renewal the copy still answers "no role": what the join's check is there to catch.
    assert (await rooms.stamped_visit(alice, RoomRef(str(room.id)))).visit.role is None
    assert reader.role_reads == 1
    await world.stamps.renew(room.sfu_room_name)  # as every access change does
    fresh = await rooms.stamped_visit(alice, RoomRef(str(room.id)), fresh=True)
    assert (fresh.visit.role, reader.role_reads) == (Role.ADMINISTRATOR, 2)
    assert fresh.stamp != held.stamp
    assert (await rooms.stamped_visit(alice, RoomRef(str(room.id)))).visit.role is Role.ADMINISTRATOR
    assert reader.role_reads == 2


async def test_copies_and_roles_are_bounded_and_roles_go_with_their_room(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots_module, "CAPACITY", 2)
    monkeypatch.setattr(snapshots_module, "ROLE_CAPACITY", 3)
    reader = CountingReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    users = [await world.user(f"user-{n}") for n in range(5)]
    first, second, third = await world.room("One"), await world.room("Two"), await world.room("Three")
    for user in users[:3]:
        await rooms.stamped_visit(user, RoomRef(str(first.id)))
    assert reader.role_reads == 3
    await rooms.stamped_visit(users[3], RoomRef(str(second.id)))  # a fourth role: the oldest copy goes, with its roles
    await rooms.stamped_visit(users[0], RoomRef(str(first.id)))
    assert (reader.reads, reader.role_reads) == (6, 5)  # the first room read again, and the role
    await rooms.stamped_visit(users[0], RoomRef(str(third.id)))
    await rooms.stamped_visit(users[0], RoomRef(str(third.id)))
    assert rooms.held[0] == 2
    assert rooms.held[1] <= 3
    many = await world.room("Crowded")
    for user in users:  # one room alone holds more roles than allowed: its oldest roles go
        await rooms.stamped_visit(user, RoomRef(str(many.id)))
    assert rooms.held[1] == 3
    assert reader.role_reads == 6 + 5
    await rooms.stamped_visit(users[-1], RoomRef(str(many.id)))  # the newest roles stayed
    assert reader.role_reads == 6 + 5


async def test_no_copy_is_kept_while_a_change_is_being_committed_or_the_stamps_are_down(world: World) -> None:
    room, reader = await world.room("Board"), CountingReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    await world.stamps.renew(room.sfu_room_name, changing=True)
    for _ in range(2):
        assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))).stamp is None
    assert reader.reads == 2  # read each time: no copy

    class Down(MemoryRoomStamps):
        async def current(self, room: str) -> str | None:
            raise ServiceUnavailable(room)

    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), Down(), FakeClock())
    for _ in range(2):
        assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))).stamp is None
    assert reader.reads == 4


async def test_a_refusal_to_administer_comes_from_a_fresh_read(world: World) -> None:
    alice, room = await world.user("alice"), await world.room("Board")
    rooms = snapshots(world, FakeClock())
    with pytest.raises(NotRoomAdmin):
        await rooms.stamped_administered(alice, RoomRef(str(room.id)))
    assert alice.user_id is not None
    await world.accesses.add(RoomAccess.grant(room.id, alice.user_id, Role.ADMINISTRATOR))
    # The copy says "no role" (its stamp was not renewed here): a refusal is read again before it is given.
    assert (await rooms.stamped_administered(alice, RoomRef(str(room.id)))).visit.role is Role.ADMINISTRATOR


async def test_a_temporary_room_has_no_stamp_to_check(world: World) -> None:
    visit = await snapshots(world, FakeClock()).stamped_visit(Viewer.anonymous(), RoomRef("coffee-corner"))
    assert (visit.visit.room.is_temporary, visit.stamp) == (True, None)


async def test_every_spelling_of_a_rooms_name_shares_one_copy(world: World) -> None:
    room, reader = await world.room("Board"), CountingReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    for spelling in ("board", "Board", "BOARD!", " board ", str(room.id), str(room.id).upper()):
        assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(spelling))).visit.room.id == room.id
    assert reader.reads == 4  # twice for the slug, twice for the id: each read once, under its stamp


async def test_callers_finding_no_copy_share_one_read_of_the_room(world: World) -> None:
    room, reader = await world.room("Board"), SlowReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    crowd = [asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))) for _ in range(50)]
    await asyncio.sleep(0)
    reader.answer.set()
    visits = await asyncio.gather(*crowd)
    assert reader.reads == 2  # one read (the room, then again under its stamp), not fifty
    assert {visit.stamp for visit in visits} == {await world.stamps.current(room.sfu_room_name)}
    visits[0].visit.room.rename("Scribbled")  # each caller still has a room of its own
    assert {visit.visit.room.name for visit in visits[1:]} == {"Board"}


async def test_a_fresh_read_is_never_shared_with_one_begun_before(world: World) -> None:
    room, reader = await world.room("Board"), SlowReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    begun = asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id))))
    await asyncio.sleep(0)
    fresh = asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)), fresh=True))
    await asyncio.sleep(0)
    reader.answer.set()
    await asyncio.gather(begun, fresh)
    assert reader.reads == 4


async def test_a_caller_going_away_does_not_stop_the_read_it_shares(world: World) -> None:
    room, reader = await world.room("Board"), SlowReader(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    leaving = asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id))))
    await asyncio.sleep(0)
    staying = asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id))))
    await asyncio.sleep(0)
    leaving.cancel()
    reader.answer.set()
    assert (await staying).visit.room.id == room.id
    assert leaving.cancelled()
    assert reader.reads == 2


async def test_a_failed_shared_read_fails_every_caller_and_the_next_caller_reads_again(world: World) -> None:
    room = await world.room("Board")

    class Failing(SlowReader):
        failures = 1

        async def room(self, room_id: uuid.UUID) -> Room | None:
            await self.answer.wait()
            if self.failures:
                self.failures -= 1
                raise ServiceUnavailable("the database is down")
            return await super().room(room_id)

    reader = Failing(world.db)
    rooms = RoomSnapshots(RoomLocator(reader, RoomPolicy()), world.stamps, FakeClock())
    crowd = [asyncio.create_task(rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))) for _ in range(3)]
    await asyncio.sleep(0)
    reader.answer.set()
    outcomes = await asyncio.gather(*crowd, return_exceptions=True)
    assert all(isinstance(outcome, ServiceUnavailable) for outcome in outcomes)
    assert (await rooms.stamped_visit(Viewer.anonymous(), RoomRef(str(room.id)))).visit.room.id == room.id
