"""Opening a room from the process's copy: checked against the room's stamp on every request, the
caller's bars in the same step, and the database alone when the stamps cannot be reached."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from meet.adapters.livekit.rooms import LiveKitRooms
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.door import MemoryRoomDoor
from meet.adapters.memory.entry import MemoryEntryCheck
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.conference.bars import BarReason
from meet.domain.conference.door import DoorPolicy
from meet.domain.conference.join import Admission
from meet.domain.conference.model import EntryVerdict
from meet.domain.conference.ports import EntryReading
from meet.domain.conference.use_cases import OpenRoom, OpenRoomRequest
from meet.domain.rooms.model import AccessLevel, Role, RoomRef
from meet.domain.rooms.snapshots import RoomSnapshots
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.users.model import Viewer
from tests.doubles.bars import DurableBarsDouble
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World


class Unreachable:
    """An ``EntryCheck`` whose backing service is down (nothing to check needs no service)."""

    async def check(self, room: str, stamp: str | None, identities: Sequence[str]) -> EntryVerdict:
        return (await self.read(room, stamp, identities)).verdict

    async def read(self, room: str, stamp: str | None, identities: Sequence[str]) -> EntryReading:
        if stamp is None and not identities:
            return EntryReading(EntryVerdict.CLEAR)
        raise ServiceUnavailable(room)


class StampsDown(MemoryRoomStamps):
    def __init__(self, stamps: MemoryRoomStamps) -> None:
        super().__init__()
        self.stamps, self.down = stamps, False

    async def current(self, room: str) -> str | None:
        if self.down:
            raise ServiceUnavailable(room)
        return await self.stamps.current(room)


def open_room(
    world: World, clock: FakeClock, bars: MemoryRoomBars, *, stamps: MemoryRoomStamps | None = None
) -> OpenRoom:
    admission = Admission(
        LiveKitTokenIssuer(url="ws://sfu", api_key="devkey", api_secret="secret", ttl=timedelta(minutes=10)),
        LiveKitRooms(),
    )
    check = Unreachable() if stamps is not None else MemoryEntryCheck(world.stamps, bars, clock)
    door = MemoryRoomDoor(MemoryLobbyStore(MemoryLobbyEvents(), bars, world.stamps))
    snapshots = RoomSnapshots(world.locator(), stamps or world.stamps, clock)
    return OpenRoom(snapshots, admission, check, door, DoorPolicy(), clock)


async def test_a_change_applies_to_the_next_join_though_the_copy_is_held(world: World) -> None:
    clock, bars = FakeClock(), MemoryRoomBars(DurableBarsDouble())
    room, rooms = await world.room("Hall"), open_room(world, clock, bars)  # the clock never moves: no copy expires
    assert (await rooms.execute(OpenRoomRequest(Viewer.anonymous(), RoomRef(room.slug)))).connection is not None
    room.access_level = AccessLevel.RESTRICTED
    await world.rooms.update(room)
    held = await rooms.execute(OpenRoomRequest(Viewer.anonymous(), RoomRef(room.slug)))
    assert held.connection is not None  # the stamp was not renewed: what renewing is for
    await world.stamps.renew(room.sfu_room_name)
    opened = await rooms.execute(OpenRoomRequest(Viewer.anonymous(), RoomRef(room.slug)))
    assert (opened.visit.room.access_level, opened.connection) == (AccessLevel.RESTRICTED, None)


async def test_a_barred_member_gets_no_connection(world: World) -> None:
    clock, bars = FakeClock(), MemoryRoomBars(DurableBarsDouble())
    member = await world.user("member")
    room = await world.room("Board", member=Role.MEMBER)
    room.access_level = AccessLevel.RESTRICTED
    await world.rooms.update(room)
    rooms = open_room(world, clock, bars)
    assert (await rooms.execute(OpenRoomRequest(member, RoomRef(room.slug)))).connection is not None
    await bars.bar(room.sfu_room_name, "member", clock.now() + timedelta(seconds=60), BarReason.REMOVED)
    kept_out = await rooms.execute(OpenRoomRequest(member, RoomRef(room.slug)))
    assert (kept_out.visit.role, kept_out.connection) == (Role.MEMBER, None)


async def test_with_the_stamps_down_only_the_anonymous_join_goes_on_from_the_database(world: World) -> None:
    clock, bars = FakeClock(), MemoryRoomBars(DurableBarsDouble())
    member = await world.user("member")
    room = await world.room("Hall", member=Role.MEMBER)
    stamps = StampsDown(world.stamps)
    stamps.down = True  # Redis is away: no stamp to take a copy under, no check to confirm one
    rooms = open_room(world, clock, bars, stamps=stamps)
    assert (await rooms.execute(OpenRoomRequest(Viewer.anonymous(), RoomRef(room.slug)))).connection is not None
    room.access_level = AccessLevel.TRUSTED
    await world.rooms.update(room)  # as the database has it now (no change can be made while Redis is down)
    opened = await rooms.execute(OpenRoomRequest(Viewer.anonymous(), RoomRef(room.slug)))
    assert (opened.visit.room.access_level, opened.connection) == (AccessLevel.TRUSTED, None)  # read as it is
    with pytest.raises(ServiceUnavailable):  # its bars cannot be checked
        await rooms.execute(OpenRoomRequest(member, RoomRef(room.slug)))
