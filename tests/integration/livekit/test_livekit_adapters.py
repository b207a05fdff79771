"""The LiveKit adapters against the wire-level LiveKit double (token-checked Twirp over HTTP)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from livekit.api import AccessToken, VideoGrants
from livekit.protocol import egress as egress_pb
from livekit.protocol import models

from meet.adapters.livekit.client import LiveKitClientFactory, LiveKitServer
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.domain.conference.errors import (
    InvalidParticipantToken,
    ParticipantNotInRoom,
    SfuRequestFailed,
    SfuUnavailable,
)
from meet.domain.conference.sfu import ParticipantUpdate
from meet.domain.rooms.model import TrackSource
from tests.support.livekit_server import LiveKitServer as Double
from tests.support.services import free_port

ROOM = "room-1"


@pytest.fixture
async def clients(livekit: Double) -> AsyncIterator[LiveKitClientFactory]:
    factory = LiveKitClientFactory(LiveKitServer(url=livekit.url, api_key="devkey", api_secret="secret"))
    yield factory
    await factory.aclose()


@pytest.fixture
def sfu(clients: LiveKitClientFactory) -> LiveKitSfu:
    return LiveKitSfu(clients)


async def test_participants_are_listed_with_their_tracks_and_permissions(livekit: Double, sfu: LiveKitSfu) -> None:
    livekit.add_participant(
        ROOM, "alice", attributes={"room_role": "owner"}, tracks=(("TR_MIC", "microphone"), ("TR_CAM", "camera"))
    )
    livekit.add_participant(ROOM, "bob", can_publish=False, sources=())
    listed = {p.identity: p for p in await sfu.list_participants(ROOM)}
    assert listed["alice"].attributes == {"room_role": "owner"}
    assert [(t.sid, t.kind, t.source) for t in listed["alice"].tracks] == [
        ("TR_MIC", "audio", "microphone"),
        ("TR_CAM", "video", "camera"),
    ]
    assert listed["alice"].can_publish
    assert not listed["bob"].can_publish
    assert listed["bob"].publish_sources == ()
    call = livekit.calls("ListParticipants")[0]
    assert call.grants.room_admin
    assert call.grants.room == ROOM
    assert not call.grants.room_create


async def test_unknown_rooms_and_people_are_not_in_the_room(livekit: Double, sfu: LiveKitSfu) -> None:
    with pytest.raises(ParticipantNotInRoom):
        await sfu.list_participants("nowhere")
    assert await sfu.get_participant("nowhere", "alice") is None
    livekit.add_participant(ROOM, "alice")
    with pytest.raises(ParticipantNotInRoom):
        await sfu.remove_participant(ROOM, "zed")


async def test_an_update_keeps_every_other_permission_and_sends_the_whole_object(
    livekit: Double, sfu: LiveKitSfu
) -> None:
    livekit.add_participant(ROOM, "bob", attributes={"room_role": "member", "keep": "me"})
    updated = await sfu.update_participant(
        ROOM,
        "bob",
        ParticipantUpdate(
            name="Bobby",
            attributes={"room_role": "administrator", "keep": ""},
            publish_sources=(TrackSource.MICROPHONE,),
        ),
    )
    sent = livekit.calls("UpdateParticipant")[0].request
    assert sent.permission.can_subscribe
    assert sent.permission.can_publish_data
    assert sent.permission.can_publish
    assert list(sent.permission.can_publish_sources) == [models.TrackSource.MICROPHONE]
    assert not sent.permission.hidden
    assert not sent.permission.recorder
    assert updated.name == "Bobby"
    assert updated.attributes == {"room_role": "administrator"}
    assert updated.publish_sources == (TrackSource.MICROPHONE,)
    silenced = await sfu.update_participant(ROOM, "bob", ParticipantUpdate(publish_sources=()))
    stored = livekit.participant(ROOM, "bob")
    assert stored is not None
    assert not silenced.can_publish
    assert not stored.permission.can_publish
    assert stored.permission.can_subscribe


async def test_an_update_without_permission_changes_leaves_the_permission_alone(
    livekit: Double, sfu: LiveKitSfu
) -> None:
    livekit.add_participant(ROOM, "bob", sources=("camera",))
    await sfu.update_participant(ROOM, "bob", ParticipantUpdate(attributes={"handRaisedAt": "now"}))
    assert not livekit.calls("UpdateParticipant")[0].request.HasField("permission")
    stored = livekit.participant(ROOM, "bob")
    assert stored is not None
    assert list(stored.permission.can_publish_sources) == [models.TrackSource.CAMERA]


async def test_remove_mute_send_data_and_metadata_reach_the_server(livekit: Double, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice", tracks=(("TR_MIC", "microphone"),))
    livekit.add_participant(ROOM, "bob")
    await sfu.mute_published_track(ROOM, "alice", "TR_MIC")
    stored = livekit.participant(ROOM, "alice")
    assert stored is not None
    assert stored.tracks[0].muted
    await sfu.send_data(ROOM, b'{"x":1}', topic="lobby", destination_identities=["alice"])
    sent = livekit.calls("SendData")[0].request
    assert list(sent.destination_identities) == ["alice"]
    assert sent.topic == "lobby"
    assert sent.data == b'{"x":1}'
    await sfu.update_room_metadata(ROOM, {"access_level": "restricted"})
    assert json.loads(livekit.metadata[ROOM]) == {"access_level": "restricted"}
    await sfu.remove_participant(ROOM, "bob")
    assert livekit.participant(ROOM, "bob") is None


async def test_failures_map_to_unavailable_or_refused(livekit: Double, sfu: LiveKitSfu) -> None:
    livekit.add_participant(ROOM, "alice")
    livekit.fail_next("ListParticipants", 500, "internal")
    with pytest.raises(SfuRequestFailed):
        await sfu.list_participants(ROOM)
    down = LiveKitClientFactory(LiveKitServer(url=f"ws://127.0.0.1:{free_port()}", api_key="k", api_secret="s"))
    with pytest.raises(SfuUnavailable):
        await LiveKitSfu(down).list_participants(ROOM)
    await down.aclose()


async def test_the_server_really_checks_the_bearer_token(livekit: Double) -> None:
    livekit.add_participant(ROOM, "alice")
    impostor = LiveKitClientFactory(LiveKitServer(url=livekit.url, api_key="devkey", api_secret="not-the-secret"))
    with pytest.raises(SfuRequestFailed):
        await LiveKitSfu(impostor).list_participants(ROOM)
    await impostor.aclose()
    assert livekit.calls() == []


async def test_egress_uploads_mp4_or_ogg_to_the_bucket_path_style(
    livekit: Double, clients: LiveKitClientFactory
) -> None:
    storage = EgressStorage(
        bucket="recordings-bucket", endpoint="http://minio:9000", region="eu-1", access_key="AK", secret="SK"
    )
    egress = LiveKitRecordingEgress(clients, storage)
    video_id = await egress.start(ROOM, object_key="recordings/abc.mp4", audio_only=False)
    audio_id = await egress.start(ROOM, object_key="recordings/def.ogg", audio_only=True)
    video, audio = (call.request for call in livekit.calls("StartRoomCompositeEgress"))
    assert video.room_name == ROOM
    assert not video.audio_only
    assert video.file_outputs[0].file_type == egress_pb.EncodedFileType.MP4
    assert video.file_outputs[0].filepath == "recordings/abc.mp4"
    upload = video.file_outputs[0].s3
    assert (upload.bucket, upload.endpoint, upload.region, upload.access_key, upload.secret) == (
        "recordings-bucket",
        "http://minio:9000",
        "eu-1",
        "AK",
        "SK",
    )
    assert upload.force_path_style
    assert audio.audio_only
    assert audio.file_outputs[0].file_type == egress_pb.EncodedFileType.OGG
    assert livekit.calls("StartRoomCompositeEgress")[0].grants.room_record
    assert video_id != audio_id
    await egress.stop(video_id)
    assert livekit.calls("StopEgress")[0].request.egress_id == video_id
    with pytest.raises(ParticipantNotInRoom):
        await egress.stop("EG_unknown")


def participant_token(*, secret: str = "secret", room: str | None = ROOM, ttl: timedelta = timedelta(minutes=5)) -> str:
    token = AccessToken("devkey", secret).with_identity("alice").with_ttl(ttl)
    if room:
        token = token.with_grants(VideoGrants(room_join=True, room=room))
    return token.to_jwt()


def test_participant_tokens_are_verified() -> None:
    verifier = LiveKitParticipantTokenVerifier(api_key="devkey", api_secret="secret")
    credentials = verifier.verify(participant_token())
    assert (credentials.identity, credentials.room) == ("alice", ROOM)
    for bad in (
        participant_token(secret="other-secret"),
        participant_token(ttl=timedelta(minutes=-5)),
        participant_token(room=None),
        "garbage",
    ):
        with pytest.raises(InvalidParticipantToken):
            verifier.verify(bad)
