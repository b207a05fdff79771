"""Contract tests of the LiveKit adapters that hold against the double AND a real ``livekit-server --dev``.

They arrange and observe only through the server API (a real server cannot be given participants
without a WebRTC client), so they run against whatever ``livekit_target`` is: the double by
default, a real server when ``MEET_TEST_LIVEKIT_URL`` is set (see ``tests.support.livekit_fixtures``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest
from livekit.api import CreateRoomRequest, DeleteRoomRequest, ListRoomsRequest, LiveKitAPI

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.client import LiveKitServer as Connection
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable
from meet.domain.conference.sfu import ParticipantUpdate
from tests.support.livekit_fixtures import LiveKitTarget
from tests.support.services import free_port


@pytest.fixture
async def admin(livekit_target: LiveKitTarget) -> AsyncIterator[LiveKitAPI]:
    """livekit-api itself, to arrange and observe rooms independently of the adapter under test."""
    api = LiveKitAPI(livekit_target.url, livekit_target.api_key, livekit_target.api_secret, failover=False)
    yield api
    await api.aclose()


@pytest.fixture
async def room(admin: LiveKitAPI) -> AsyncIterator[str]:
    """An empty live room with a unique name, deleted afterwards."""
    name = f"contract-{uuid.uuid4().hex[:10]}"
    await admin.room.create_room(CreateRoomRequest(name=name, empty_timeout=60))
    yield name
    await admin.room.delete_room(DeleteRoomRequest(room=name))


@pytest.fixture
async def clients(livekit_target: LiveKitTarget) -> AsyncIterator[LiveKitClientFactory]:
    factory = LiveKitClientFactory(
        Connection(url=livekit_target.url, api_key=livekit_target.api_key, api_secret=livekit_target.api_secret)
    )
    yield factory
    await factory.aclose()


@pytest.fixture
def sfu(clients: LiveKitClientFactory) -> LiveKitSfu:
    return LiveKitSfu(clients)


async def test_an_empty_room_has_nobody_in_it(sfu: LiveKitSfu, room: str) -> None:
    assert await sfu.list_participants(room) == ()
    assert await sfu.get_participant(room, "nobody") is None


async def test_acting_on_someone_absent_is_not_in_room(sfu: LiveKitSfu, room: str) -> None:
    with pytest.raises(ParticipantNotInRoom):
        await sfu.remove_participant(room, "nobody")
    with pytest.raises(ParticipantNotInRoom):
        await sfu.update_participant(room, "nobody", ParticipantUpdate(attributes={"k": "v"}))
    with pytest.raises(ParticipantNotInRoom):
        await sfu.update_participant(room, "nobody", ParticipantUpdate(publish_sources=()))


async def test_room_metadata_reaches_the_live_room(sfu: LiveKitSfu, admin: LiveKitAPI, room: str) -> None:
    await sfu.update_room_metadata(room, {"recording_status": "active", "access_level": "public"})
    listed = await admin.room.list_rooms(ListRoomsRequest(names=[room]))
    assert [r.name for r in listed.rooms] == [room]
    assert listed.rooms[0].metadata == '{"access_level":"public","recording_status":"active"}'
    assert json.loads(listed.rooms[0].metadata) == {"access_level": "public", "recording_status": "active"}


async def test_metadata_for_a_room_that_is_not_live_is_not_in_room(sfu: LiveKitSfu) -> None:
    with pytest.raises(ParticipantNotInRoom):
        await sfu.update_room_metadata(f"absent-{uuid.uuid4().hex[:10]}", {"a": 1})


async def test_data_to_an_empty_live_room_is_accepted(sfu: LiveKitSfu, room: str) -> None:
    await sfu.send_data(room, b'{"type":"ping"}', topic="lobby", destination_identities=["nobody"])


async def test_stopping_an_egress_the_server_does_not_know_is_a_failure(clients: LiveKitClientFactory) -> None:
    storage = EgressStorage(bucket="b", endpoint="http://127.0.0.1:9000", region="r", access_key="a", secret="s")
    with pytest.raises(SfuRequestFailed):
        await LiveKitRecordingEgress(clients, storage).stop("EG_doesnotexist")


async def test_the_server_rejects_a_token_signed_with_another_secret(livekit_target: LiveKitTarget, room: str) -> None:
    impostor = LiveKitClientFactory(
        Connection(url=livekit_target.url, api_key=livekit_target.api_key, api_secret="another-secret-entirely")
    )
    try:
        with pytest.raises(SfuRequestFailed):
            await LiveKitSfu(impostor).list_participants(room)
        with pytest.raises(SfuRequestFailed):
            await LiveKitSfu(impostor).update_room_metadata(room, {"hijacked": True})
    finally:
        await impostor.aclose()


async def test_nothing_listening_is_unavailable() -> None:
    down = LiveKitClientFactory(Connection(url=f"ws://127.0.0.1:{free_port()}", api_key="devkey", api_secret="secret"))
    try:
        with pytest.raises(SfuUnavailable):
            await LiveKitSfu(down).list_participants("any")
    finally:
        await down.aclose()
