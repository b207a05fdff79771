"""``LiveKitSfu`` against the wire-level double: what it sends, and how it reads what comes back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from livekit.protocol import models

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.client import LiveKitServer as Connection
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable
from meet.domain.conference.sfu import ParticipantUpdate, PublishedTrack
from meet.domain.rooms.model import TrackSource
from tests.support.livekit_server import LiveKitServer

ROOM = "room-1"


@pytest.fixture
async def clients(livekit: LiveKitServer) -> AsyncIterator[LiveKitClientFactory]:
    factory = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret=livekit.api_secret))
    yield factory
    await factory.aclose()


@pytest.fixture
def sfu(clients: LiveKitClientFactory) -> LiveKitSfu:
    return LiveKitSfu(clients)


def full_permission() -> models.ParticipantPermission:
    """Every field set to something not false, so a lost field shows in the assertions."""
    return models.ParticipantPermission(
        can_subscribe=True,
        can_publish=True,
        can_publish_data=True,
        can_publish_sources=[models.TrackSource.CAMERA, models.TrackSource.MICROPHONE],
        can_update_metadata=True,
        can_subscribe_metrics=True,
        can_manage_agent_session=True,
    )


async def test_participants_are_read_with_tracks_and_publish_permissions(
    livekit: LiveKitServer, sfu: LiveKitSfu
) -> None:
    livekit.add_participant(
        ROOM,
        "alice",
        name="Alice",
        attributes={"room_role": "owner"},
        tracks=(
            ("TR_MIC", "microphone"),
            ("TR_CAM", "camera"),
            ("TR_SCR", "screen_share"),
            ("TR_SCA", "screen_share_audio"),
            models.TrackInfo(sid="TR_DATA", type=models.TrackType.DATA, source=models.TrackSource.UNKNOWN, muted=True),
        ),
    )
    livekit.add_participant(ROOM, "bob", can_publish=False, sources=())
    livekit.add_participant(ROOM, "carol", sources=("microphone",))
    livekit.add_participant(ROOM, "dave", sources=())  # LiveKit: no source list means every source

    listed = {p.identity: p for p in await sfu.list_participants(ROOM)}

    alice = listed["alice"]
    assert (alice.name, dict(alice.attributes)) == ("Alice", {"room_role": "owner"})
    assert alice.tracks == (
        PublishedTrack(sid="TR_MIC", kind="audio", source="microphone", muted=False),
        PublishedTrack(sid="TR_CAM", kind="video", source="camera", muted=False),
        PublishedTrack(sid="TR_SCR", kind="video", source="screen_share", muted=False),
        PublishedTrack(sid="TR_SCA", kind="audio", source="screen_share_audio", muted=False),
        PublishedTrack(sid="TR_DATA", kind="data", source="unknown", muted=True),
    )
    assert alice.can_publish
    assert alice.publish_sources == tuple(TrackSource)
    assert (listed["bob"].can_publish, listed["bob"].publish_sources) == (False, ())
    assert listed["carol"].publish_sources == (TrackSource.MICROPHONE,)
    assert listed["dave"].publish_sources == tuple(TrackSource)


async def test_each_call_carries_a_token_scoped_to_its_room(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice")
    await sfu.list_participants(ROOM)
    (call,) = livekit.calls("ListParticipants")
    assert call.request.room == ROOM
    assert call.grants is not None
    assert call.grants.room_admin
    assert call.grants.room == ROOM
    assert not call.grants.room_create
    assert not call.grants.room_record
    assert call.content_type == "application/protobuf"


async def test_an_unknown_room_is_empty_and_an_unknown_person_is_absent(
    livekit: LiveKitServer, sfu: LiveKitSfu
) -> None:
    assert await sfu.list_participants("nowhere") == ()
    assert await sfu.get_participant("nowhere", "alice") is None
    livekit.add_participant(ROOM, "alice")
    assert await sfu.get_participant(ROOM, "zed") is None
    found = await sfu.get_participant(ROOM, "alice")
    assert found is not None
    assert found.identity == "alice"
    for attempt in (
        sfu.remove_participant(ROOM, "zed"),
        sfu.mute_published_track(ROOM, "zed", "TR_1"),
        sfu.update_participant(ROOM, "zed", ParticipantUpdate(name="Zed")),
        sfu.update_participant(ROOM, "zed", ParticipantUpdate(publish_sources=())),
        sfu.update_room_metadata("nowhere", {"a": 1}),
        sfu.send_data("nowhere", b"{}", topic="t", destination_identities=[]),
    ):
        with pytest.raises(ParticipantNotInRoom):
            await attempt


async def test_a_permission_change_reads_the_whole_permission_and_sends_it_back(
    livekit: LiveKitServer, sfu: LiveKitSfu
) -> None:
    livekit.add_participant(ROOM, "bob", permission=full_permission())

    updated = await sfu.update_participant(
        ROOM, "bob", ParticipantUpdate(publish_sources=(TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE))
    )

    assert [call.method for call in livekit.calls()] == ["GetParticipant", "UpdateParticipant"]
    sent = livekit.calls("UpdateParticipant")[0].request
    expected = full_permission()
    del expected.can_publish_sources[:]
    expected.can_publish_sources.extend([models.TrackSource.MICROPHONE, models.TrackSource.SCREEN_SHARE])
    assert sent.permission == expected  # every other field as it was, hidden/recorder/agent still false
    stored = livekit.participant(ROOM, "bob")
    assert stored is not None
    assert stored.permission == expected
    assert updated.publish_sources == (TrackSource.MICROPHONE, TrackSource.SCREEN_SHARE)


async def test_no_sources_means_no_publishing_and_the_rest_survives(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "bob", permission=full_permission(), tracks=(("TR_CAM", "camera"),))

    silenced = await sfu.update_participant(ROOM, "bob", ParticipantUpdate(publish_sources=()))

    sent = livekit.calls("UpdateParticipant")[0].request.permission
    assert not sent.can_publish
    assert list(sent.can_publish_sources) == []
    assert (sent.can_subscribe, sent.can_publish_data, sent.can_update_metadata) == (True, True, True)
    assert (sent.hidden, sent.recorder, sent.agent) == (False, False, False)
    assert (silenced.can_publish, silenced.publish_sources, silenced.tracks) == (False, (), ())
    stored = livekit.participant(ROOM, "bob")
    assert stored is not None
    assert stored.permission.can_subscribe


async def test_hidden_or_recorder_flags_are_sent_back_as_they_were(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    # Never true for our participants; the adapter must still not be the one that changes them.
    livekit.add_participant(
        ROOM, "rec", permission=models.ParticipantPermission(can_subscribe=True, hidden=True, recorder=True)
    )
    await sfu.update_participant(ROOM, "rec", ParticipantUpdate(publish_sources=(TrackSource.CAMERA,)))
    sent = livekit.calls("UpdateParticipant")[0].request.permission
    assert (sent.hidden, sent.recorder, sent.agent, sent.can_publish) == (True, True, False, True)


async def test_name_and_attributes_change_without_touching_the_permission(
    livekit: LiveKitServer, sfu: LiveKitSfu
) -> None:
    livekit.add_participant(
        ROOM, "bob", permission=full_permission(), attributes={"room_role": "member", "handRaisedAt": "t0"}
    )

    updated = await sfu.update_participant(
        ROOM, "bob", ParticipantUpdate(name="Bobby", attributes={"room_role": "administrator", "handRaisedAt": ""})
    )

    assert [call.method for call in livekit.calls()] == ["UpdateParticipant"]
    sent = livekit.calls("UpdateParticipant")[0].request
    assert not sent.HasField("permission")
    assert sent.name == "Bobby"
    assert dict(sent.attributes) == {"room_role": "administrator", "handRaisedAt": ""}
    assert updated.name == "Bobby"
    assert dict(updated.attributes) == {"room_role": "administrator"}  # "" deletes the key
    stored = livekit.participant(ROOM, "bob")
    assert stored is not None
    assert stored.permission == full_permission()


async def test_remove_takes_the_participant_out(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice")
    livekit.add_participant(ROOM, "bob")
    await sfu.remove_participant(ROOM, "bob")
    assert [p.identity for p in livekit.participants(ROOM)] == ["alice"]
    request = livekit.calls("RemoveParticipant")[0].request
    assert (request.room, request.identity) == (ROOM, "bob")


async def test_mute_reaches_the_track(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice", tracks=(("TR_MIC", "microphone"), ("TR_CAM", "camera")))
    await sfu.mute_published_track(ROOM, "alice", "TR_MIC")
    request = livekit.calls("MutePublishedTrack")[0].request
    assert (request.room, request.identity, request.track_sid, request.muted) == (ROOM, "alice", "TR_MIC", True)
    stored = livekit.participant(ROOM, "alice")
    assert stored is not None
    assert [(t.sid, t.muted) for t in stored.tracks] == [("TR_MIC", True), ("TR_CAM", False)]
    with pytest.raises(ParticipantNotInRoom):
        await sfu.mute_published_track(ROOM, "alice", "TR_GONE")
    # LiveKit refuses a remote unmute unless the server enables it: a refusal, not an absence.
    with pytest.raises(SfuRequestFailed):
        await sfu.mute_published_track(ROOM, "alice", "TR_MIC", muted=False)


async def test_data_is_sent_reliably_to_the_named_identities(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice")
    await sfu.send_data(ROOM, b'{"type":"knock"}', topic="lobby", destination_identities=["alice", "admin"])
    request = livekit.calls("SendData")[0].request
    assert request.room == ROOM
    assert request.data == b'{"type":"knock"}'
    assert request.kind == models.DataPacket.Kind.RELIABLE
    assert request.topic == "lobby"
    assert list(request.destination_identities) == ["alice", "admin"]
    assert list(request.destination_sids) == []


async def test_room_metadata_is_compact_sorted_json(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_room(ROOM)
    await sfu.update_room_metadata(ROOM, {"recording_status": "active", "access_level": "restricted", "n": [1, 2]})
    sent = livekit.calls("UpdateRoomMetadata")[0]
    assert sent.request.metadata == '{"access_level":"restricted","n":[1,2],"recording_status":"active"}'
    assert json.loads(livekit.metadata[ROOM])["recording_status"] == "active"
    assert sent.grants is not None
    assert sent.grants.room_admin
    assert sent.grants.room == ROOM


@pytest.mark.parametrize(("status", "code"), [(500, "internal"), (503, "unavailable"), (400, "invalid_argument")])
async def test_server_errors_are_refusals(livekit: LiveKitServer, sfu: LiveKitSfu, status: int, code: str) -> None:
    livekit.add_participant(ROOM, "alice")
    livekit.fail_next("ListParticipants", status, code)
    with pytest.raises(SfuRequestFailed):
        await sfu.list_participants(ROOM)
    assert len(await sfu.list_participants(ROOM)) == 1  # one failure only, then the server answers again


async def test_a_failed_read_before_a_permission_change_sends_nothing(livekit: LiveKitServer, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "bob", permission=full_permission())
    livekit.fail_next("GetParticipant", code="internal")
    with pytest.raises(SfuRequestFailed):
        await sfu.update_participant(ROOM, "bob", ParticipantUpdate(publish_sources=()))
    assert livekit.calls("UpdateParticipant") == []


async def test_a_server_that_does_not_answer_in_time_is_unavailable(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice")
    livekit.stall_next("ListParticipants")
    impatient = LiveKitClientFactory(
        Connection(url=livekit.url, api_key=livekit.api_key, api_secret=livekit.api_secret, timeout_seconds=0.3)
    )
    try:
        with pytest.raises(SfuUnavailable):
            await LiveKitSfu(impatient).list_participants(ROOM)
    finally:
        await impatient.aclose()
        livekit.reset()  # releases the stalled request


async def test_a_token_signed_with_another_secret_is_refused(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice")
    impostor = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret="not-the-secret"))
    try:
        with pytest.raises(SfuRequestFailed):
            await LiveKitSfu(impostor).list_participants(ROOM)
        with pytest.raises(SfuRequestFailed):
            await LiveKitSfu(impostor).remove_participant(ROOM, "alice")
    finally:
        await impostor.aclose()
    assert livekit.calls() == []
    rejected = livekit.rejected_calls()
    assert [(c.method, c.status, c.error_code, c.grants) for c in rejected] == [
        ("ListParticipants", 401, "unauthenticated", None),
        ("RemoveParticipant", 401, "unauthenticated", None),
    ]
    assert [p.identity for p in livekit.participants(ROOM)] == ["alice"]
