"""``LiveKitRecordingEgress`` against the wire-level double: the exact egress request, and stopping it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from livekit.protocol import egress as egress_pb

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.client import LiveKitServer as Connection
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.domain.conference.errors import RoomNotLive, SfuRequestFailed, SfuUnavailable
from tests.support.livekit_server import LiveKitServer
from tests.support.services import free_port

ROOM = "room-1"
STORAGE = EgressStorage(
    bucket="meet-recordings", endpoint="http://127.0.0.1:9000", region="eu-west-1", access_key="AKID", secret="SK"
)


@pytest.fixture
async def clients(livekit: LiveKitServer) -> AsyncIterator[LiveKitClientFactory]:
    factory = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret=livekit.api_secret))
    yield factory
    await factory.aclose()


@pytest.fixture
def egress(clients: LiveKitClientFactory) -> LiveKitRecordingEgress:
    return LiveKitRecordingEgress(clients, STORAGE)


def expected_request(object_key: str, file_type: int, *, audio_only: bool) -> egress_pb.RoomCompositeEgressRequest:
    upload = egress_pb.S3Upload(
        bucket="meet-recordings",
        endpoint="http://127.0.0.1:9000",
        region="eu-west-1",
        access_key="AKID",
        secret="SK",
        force_path_style=True,
    )
    output = egress_pb.EncodedFileOutput(file_type=file_type, filepath=object_key, s3=upload)  # type: ignore[arg-type]
    return egress_pb.RoomCompositeEgressRequest(room_name=ROOM, audio_only=audio_only, file_outputs=[output])


async def test_a_screen_recording_is_a_room_composite_mp4_uploaded_path_style(
    livekit: LiveKitServer, egress: LiveKitRecordingEgress
) -> None:
    livekit.add_participant(ROOM, "alice")

    egress_id = await egress.start(ROOM, object_key="recordings/3f6c.mp4", audio_only=False)

    (call,) = livekit.calls("StartRoomCompositeEgress")
    assert call.service == "Egress"
    # The whole message, so nothing else (layout, legacy ``file`` output, other outputs) slips in unnoticed.
    assert call.request == expected_request("recordings/3f6c.mp4", egress_pb.EncodedFileType.MP4, audio_only=False)
    assert call.grants is not None
    assert call.grants.room_record
    assert not call.grants.room_admin
    started = livekit.egress(egress_id)
    assert started is not None
    assert (started.room_name, started.status) == (ROOM, egress_pb.EGRESS_STARTING)


async def test_a_transcript_recording_is_audio_only_ogg(livekit: LiveKitServer, egress: LiveKitRecordingEgress) -> None:
    livekit.add_participant(ROOM, "alice")
    await egress.start(ROOM, object_key="recordings/9a1b.ogg", audio_only=True)
    (call,) = livekit.calls("StartRoomCompositeEgress")
    assert call.request == expected_request("recordings/9a1b.ogg", egress_pb.EncodedFileType.OGG, audio_only=True)


def test_the_storage_secret_is_not_in_the_settings_repr() -> None:
    assert "secret" not in repr(STORAGE)


async def test_stop_ends_the_egress_it_started(livekit: LiveKitServer, egress: LiveKitRecordingEgress) -> None:
    livekit.add_participant(ROOM, "alice")
    first = await egress.start(ROOM, object_key="recordings/a.mp4", audio_only=False)
    second = await egress.start(ROOM, object_key="recordings/b.ogg", audio_only=True)
    assert first != second
    livekit.set_egress_status(first, egress_pb.EGRESS_ACTIVE)

    await egress.stop(first)

    (call,) = livekit.calls("StopEgress")
    assert call.request == egress_pb.StopEgressRequest(egress_id=first)
    assert call.grants is not None
    assert call.grants.room_record
    ended = livekit.egress(first)
    assert ended is not None
    assert ended.status == egress_pb.EGRESS_ENDING
    untouched = livekit.egress(second)
    assert untouched is not None
    assert untouched.status == egress_pb.EGRESS_STARTING


async def test_stopping_an_unknown_or_finished_egress_is_a_failure(
    livekit: LiveKitServer, egress: LiveKitRecordingEgress
) -> None:
    livekit.add_participant(ROOM, "alice")
    with pytest.raises(SfuRequestFailed):
        await egress.stop("EG_unknown")  # not_found: a refused stop, never "not in the room"
    egress_id = await egress.start(ROOM, object_key="recordings/a.mp4", audio_only=False)
    livekit.set_egress_status(egress_id, egress_pb.EGRESS_COMPLETE)
    with pytest.raises(SfuRequestFailed):
        await egress.stop(egress_id)  # failed_precondition
    assert [c.error_code for c in livekit.calls("StopEgress")] == ["not_found", "failed_precondition"]


async def test_start_failures_are_refusals_or_unavailability(
    livekit: LiveKitServer, egress: LiveKitRecordingEgress
) -> None:
    with pytest.raises(RoomNotLive):  # LiveKit's not_found: nobody is in the room, a 409 for the caller
        await egress.start("nobody-here", object_key="recordings/a.mp4", audio_only=False)
    livekit.add_participant(ROOM, "alice")
    livekit.fail_next("StartRoomCompositeEgress", code="internal", message="egress not connected (redis required)")
    with pytest.raises(SfuRequestFailed):
        await egress.start(ROOM, object_key="recordings/a.mp4", audio_only=False)
    assert livekit.egress("EG_none") is None
    down = LiveKitClientFactory(Connection(url=f"ws://127.0.0.1:{free_port()}", api_key="devkey", api_secret="secret"))
    try:
        with pytest.raises(SfuUnavailable):
            await LiveKitRecordingEgress(down, STORAGE).start(ROOM, object_key="recordings/a.mp4", audio_only=False)
    finally:
        await down.aclose()


async def test_egress_refuses_a_token_with_another_secret(livekit: LiveKitServer) -> None:
    livekit.add_participant(ROOM, "alice")
    impostor = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret="wrong"))
    try:
        with pytest.raises(SfuRequestFailed):
            await LiveKitRecordingEgress(impostor, STORAGE).start(ROOM, object_key="recordings/a.mp4", audio_only=False)
    finally:
        await impostor.aclose()
    assert livekit.calls() == []
    assert [c.method for c in livekit.rejected_calls()] == ["StartRoomCompositeEgress"]


async def test_a_start_answered_without_an_egress_id_is_a_refusal(
    livekit: LiveKitServer, egress: LiveKitRecordingEgress
) -> None:
    livekit.add_participant(ROOM, "alice")
    livekit.answer_empty_next("StartRoomCompositeEgress")
    with pytest.raises(SfuRequestFailed, match="no egress id"):
        await egress.start(ROOM, object_key="recordings/a.mp4", audio_only=False)
