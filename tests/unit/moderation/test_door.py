"""The door's controls in the domain, on the memory adapters: what the SFU must do, and what those waiting
and joining are told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meet.adapters.memory.door import MemoryRoomDoor
from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.conference.door import DoorPolicy, DoorRefusal, DoorState, Entrant, capacity_of
from meet.domain.conference.sfu import LiveParticipant
from meet.domain.lobby.use_cases import RequestEntryRequest, WaitForDecisionRequest
from meet.domain.moderation.door import EndMeeting, EndMeetingRequest
from meet.domain.recordings.use_cases import StopRecording
from meet.domain.rooms.model import AccessLevel, Role, RoomRef
from meet.domain.users.model import Viewer
from tests.doubles.egress import MemoryRecordingEgress
from tests.doubles.sfu import MemorySfu
from tests.unit.lobby.conftest import Lobby
from tests.unit.rooms.conftest import World, world  # noqa: F401 - re-exported fixture

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LIKE_LIVEKIT = MemorySfu().capabilities


def test_an_admin_passes_every_door_and_others_are_kept_out_for_the_first_reason() -> None:
    ended = DoorState(locked=True, ended_until_ms=int(NOW.timestamp() * 1000) + 1, taken=5)
    assert ended.refusal(Entrant(admin=True, capacity=1), NOW) is None
    assert ended.refusal(Entrant(), NOW) is DoorRefusal.ENDED
    assert DoorState(locked=True, taken=5).refusal(Entrant(capacity=1), NOW) is DoorRefusal.LOCKED
    sent_back = DoorState(taken=5, suspended=frozenset({"m"}))
    assert sent_back.refusal(Entrant(capacity=1, identities=("m",)), NOW) is DoorRefusal.SENT_BACK
    assert DoorState(taken=2).refusal(Entrant(capacity=2, identities=("x",)), NOW) is DoorRefusal.FULL
    assert DoorState(taken=2, inside=frozenset({"x"})).refusal(Entrant(capacity=2, identities=("x",)), NOW) is None
    assert DoorState(taken=2).refusal(Entrant(capacity=0), NOW) is None  # no limit


@pytest.mark.parametrize(
    ("configured", "default", "capacity"), [(None, 0, 0), (None, 50, 50), (10, 50, 10), (80, 50, 50), (10, 0, 10)]
)
def test_a_rooms_capacity_is_at_most_the_default(configured: int | None, default: int, capacity: int) -> None:
    assert capacity_of(configured, default) == capacity


async def ended_meeting(world: World, sfu: MemorySfu) -> tuple[Lobby, EndMeeting, Viewer, str]:  # noqa: F811
    lobby = Lobby(world)
    owner = await world.user("owner")
    room = await world.room("Board", owner=Role.OWNER)
    room.access_level = AccessLevel.RESTRICTED
    await world.rooms.update(room)
    for identity in ("a", "b"):
        sfu.join(room.sfu_room_name, LiveParticipant(identity=identity, name=identity))
    stop = StopRecording(world.locator(), world.reader, MemoryRecordingEgress(), sfu, world.uow, lobby.clock)
    end = EndMeeting(world.locator(), MemoryRoomDoor(lobby.store), sfu, stop, lobby.clock, DoorPolicy())
    return lobby, end, owner, str(room.id)


async def test_an_sfu_that_cannot_close_a_room_has_everyone_removed_instead(world: World) -> None:  # noqa: F811
    sfu = MemorySfu(SfuCapabilities(**{**_fields(LIKE_LIVEKIT), "close_room": False}))
    _, end, owner, room = await ended_meeting(world, sfu)
    await end.execute(EndMeetingRequest(owner, RoomRef(room)))
    assert sfu.closed == []
    assert sorted(identity for _, identity in sfu.removed) == ["a", "b"]


async def test_ending_closes_the_live_room_and_tells_the_waiting_stream(world: World) -> None:  # noqa: F811
    sfu = MemorySfu(SfuCapabilities(**{**_fields(LIKE_LIVEKIT), "close_room": True}))
    lobby, end, owner, room = await ended_meeting(world, sfu)
    waiting = await lobby.request_entry().execute(
        RequestEntryRequest(Viewer.anonymous(), RoomRef(room), username="Zoe", client_address="10.0.0.1")
    )
    updates = await lobby.wait().execute(
        WaitForDecisionRequest(Viewer.anonymous(), RoomRef(room), credentials=[waiting.credential])
    )
    assert (await anext(updates)).kind == "status"
    ended = await end.execute(EndMeetingRequest(owner, RoomRef(room)))
    assert ended.waiting == 1
    told = await anext(updates)
    assert (told.kind, told.ends_stream) == ("ended", True)
    assert sfu.closed == [room]
    assert sfu.removed == []


def _fields(capabilities: SfuCapabilities) -> dict[str, bool]:
    return {name: getattr(capabilities, name) for name in SfuCapabilities.__slots__}
