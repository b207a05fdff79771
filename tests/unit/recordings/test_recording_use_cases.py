from __future__ import annotations

from datetime import timedelta

import pytest

from meet.domain.conference.errors import SfuRequestFailed, SfuUnavailable
from meet.domain.conference.events import EgressReport, SfuEvent
from meet.domain.recordings.errors import (
    InvalidStorageHookToken,
    MediaPathRefused,
    NoRecordingAccess,
    NoRecordingInProgress,
    RecordingFailedToStart,
    RecordingFailedToStop,
    RecordingInProgress,
    RecordingNotAvailable,
    RecordingNotFinished,
    RecordingNotFound,
    RecordingsDisabled,
    RecordingStateConflict,
    RoomRecordingsUnfinished,
)
from meet.domain.recordings.model import (
    START_ABANDONED_AFTER,
    Recording,
    RecordingMode,
    RecordingOptions,
    RecordingStatus,
)
from meet.domain.recordings.use_cases import (
    ListRecordingsRequest,
    MediaDownloadRequest,
    RecordingPolicy,
    RecordingRequest,
    StartRecordingRequest,
    StopRecordingRequest,
    StorageNotification,
    StoredObject,
)
from meet.domain.rooms.errors import NotRoomAdmin, RoomNotFound
from meet.domain.rooms.model import Role, RoomRef, SfuRoomName
from meet.domain.rooms.use_cases import DeleteRoomRequest
from meet.domain.shared.errors import AuthenticationRequired
from meet.domain.users.model import Viewer
from meet.entrypoints.http.schemas import bearer_of
from tests.unit.recordings.conftest import HOOK_TOKEN, Studio

BEARER = f"Bearer {HOOK_TOKEN}"


def notification(authorization: str | None, objects: list[StoredObject]) -> StorageNotification:
    """What the storage hook hands the use case for a request with this ``Authorization`` header."""
    return StorageNotification(token=bearer_of(authorization), objects=objects)


def stored(recording: Recording, *, bucket: str = "meet-media", content_type: str | None = None) -> StoredObject:
    default = "video/mp4" if recording.mode is RecordingMode.SCREEN_RECORDING else "audio/ogg"
    return StoredObject(bucket=bucket, key=recording.object_key, content_type=content_type or default)


def egress_event(egress_id: str, status: str, kind: str = "egress_updated") -> SfuEvent:
    return SfuEvent(id=f"EV_{egress_id}_{status}", kind=kind, egress=EgressReport(egress_id=egress_id, status=status))


async def saved_recording(studio: Studio, mode: RecordingMode = RecordingMode.SCREEN_RECORDING) -> Recording:
    recording = await studio.start().execute(StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), mode))
    await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    (saved,) = await studio.storage_hook().execute(notification(BEARER, [stored(recording)]))
    return saved


# --- start ----------------------------------------------------------------------------------------


async def test_a_screen_recording_is_an_mp4_of_the_live_room(studio: Studio) -> None:
    studio.live()
    recording = await studio.start().execute(
        StartRecordingRequest(studio.admin, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )

    assert recording.status is RecordingStatus.INITIATED
    assert recording.created_by == studio.admin.user_id
    (egress,) = studio.egress.egresses.values()
    assert (egress.egress_id, egress.room, egress.audio_only) == (recording.egress_id, str(studio.room.id), False)
    assert egress.object_key == f"recordings/{recording.id}.mp4"
    assert studio.sfu.metadata[str(studio.room.id)] == {
        "access_level": "public",
        "configuration": {"can_publish_sources": None, "everyone_can_mute": None},
        "recording_status": "starting",
        "recording_mode": "screen_recording",
    }


async def test_a_transcript_is_audio_only_ogg_with_its_options(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(
            studio.owner, RoomRef(str(studio.room.id)), RecordingMode.TRANSCRIPT, RecordingOptions(language="fr")
        )
    )
    (egress,) = studio.egress.egresses.values()
    assert egress.audio_only
    assert egress.object_key == f"recordings/{recording.id}.ogg"
    assert (await studio.recordings.get(recording.id)) == recording
    assert recording.options.language == "fr"


async def test_only_room_admins_start_and_stop(studio: Studio) -> None:
    for viewer, error in ((Viewer.anonymous(), AuthenticationRequired), (studio.member, NotRoomAdmin)):
        with pytest.raises(error):
            await studio.start().execute(
                StartRecordingRequest(viewer, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
            )
        with pytest.raises(error):
            await studio.stop().execute(StopRecordingRequest(viewer, RoomRef(studio.room.slug)))
    with pytest.raises(RoomNotFound):  # a temporary room has no admin
        await studio.start().execute(
            StartRecordingRequest(studio.owner, RoomRef("somewhere-else"), RecordingMode.SCREEN_RECORDING)
        )
    assert studio.egress.egresses == {}


async def test_one_recording_at_a_time_per_room(studio: Studio) -> None:
    await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    with pytest.raises(RecordingInProgress):
        await studio.start().execute(
            StartRecordingRequest(studio.admin, RoomRef(studio.room.slug), RecordingMode.TRANSCRIPT)
        )
    other = await studio.world.room("Other", owner=Role.OWNER)
    await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(other.slug), RecordingMode.TRANSCRIPT)
    )  # another room may record
    assert sorted(e.room for e in studio.egress.egresses.values()) == sorted([str(studio.room.id), str(other.id)])


async def test_a_refused_start_is_kept_as_failed_and_the_next_start_works(studio: Studio) -> None:
    studio.egress.fail_start = SfuRequestFailed("egress not connected")
    with pytest.raises(RecordingFailedToStart):
        await studio.start().execute(
            StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
        )
    (failed,) = studio.store.values()
    assert failed.status is RecordingStatus.FAILED_TO_START
    assert failed.egress_id is None

    retry = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    assert retry.status is RecordingStatus.INITIATED
    assert retry.egress_id in studio.egress.egresses


async def test_an_unreachable_sfu_is_unavailable_not_a_stuck_recording(studio: Studio) -> None:
    studio.egress.fail_start = SfuUnavailable()
    with pytest.raises(SfuUnavailable):
        await studio.start().execute(
            StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
        )
    assert [r.status for r in studio.store.values()] == [RecordingStatus.FAILED_TO_START]
    assert await studio.recordings.ongoing_in_room(studio.room.id) is None


async def abandoned_start(studio: Studio) -> Recording:
    """A start whose process died between committing the recording and hearing from the SFU."""
    recording = Recording.initiate(
        studio.room.id, RecordingMode.SCREEN_RECORDING, created_by=studio.owner.user_id, now=studio.clock.now()
    )
    await studio.recordings.add(recording)
    return recording


async def test_an_abandoned_start_holds_the_room_only_for_a_while(studio: Studio) -> None:
    abandoned = await abandoned_start(studio)
    request = StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    with pytest.raises(RecordingInProgress):  # it may still be answered
        await studio.start().execute(request)
    with pytest.raises(RecordingStateConflict):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    studio.clock.advance(START_ABANDONED_AFTER.total_seconds())
    retry = await studio.start().execute(request)
    assert retry.egress_id in studio.egress.egresses
    assert studio.store[abandoned.id].status is RecordingStatus.FAILED_TO_START


async def test_an_abandoned_start_is_stopped_as_failed_and_does_not_keep_the_room(studio: Studio) -> None:
    abandoned = await abandoned_start(studio)
    studio.clock.advance(START_ABANDONED_AFTER.total_seconds())
    with pytest.raises(NoRecordingInProgress):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    assert studio.store[abandoned.id].status is RecordingStatus.FAILED_TO_START
    await abandoned_start(studio)
    studio.clock.advance(START_ABANDONED_AFTER.total_seconds())
    await studio.delete_room().execute(DeleteRoomRequest(studio.owner, RoomRef(studio.room.slug)))
    assert await studio.world.rooms.get(studio.room.id) is None


async def test_a_start_answered_strangely_fails_and_frees_the_room(studio: Studio) -> None:
    original = studio.egress.start

    async def no_egress_id(room: str, *, object_key: str, audio_only: bool) -> str:
        return ""

    studio.egress.start = no_egress_id  # type: ignore[method-assign]
    request = StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    with pytest.raises(RecordingFailedToStart):
        await studio.start().execute(request)
    assert [r.status for r in studio.store.values()] == [RecordingStatus.FAILED_TO_START]
    studio.egress.start = original  # type: ignore[method-assign]
    assert (await studio.start().execute(request)).egress_id


async def test_recording_can_be_switched_off(studio: Studio) -> None:
    start = studio.start()
    start._policy = RecordingPolicy(enabled=False)
    with pytest.raises(RecordingsDisabled):
        await start.execute(
            StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
        )


# --- stop -----------------------------------------------------------------------------------------


async def test_stop_ends_the_egress_and_reports_stopped(studio: Studio) -> None:
    studio.live()
    with pytest.raises(NoRecordingInProgress):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    stopped = await studio.stop().execute(StopRecordingRequest(studio.admin, RoomRef(studio.room.slug)))
    assert (stopped.id, stopped.status) == (recording.id, RecordingStatus.STOPPED)
    assert recording.egress_id is not None
    assert studio.egress.egresses[recording.egress_id].stopped
    assert studio.sfu.metadata[str(studio.room.id)]["recording_status"] == "saving"
    with pytest.raises(NoRecordingInProgress):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))


async def test_a_refused_stop_is_an_error_and_recorded_as_failed_to_stop(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    studio.egress.fail_stop = SfuRequestFailed("egress already ended")
    with pytest.raises(RecordingFailedToStop):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    assert studio.store[recording.id].status is RecordingStatus.FAILED_TO_STOP
    await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.TRANSCRIPT)
    )


async def test_an_unreachable_sfu_leaves_the_recording_to_stop_again(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    studio.egress.fail_stop = SfuUnavailable()
    with pytest.raises(SfuUnavailable):
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    assert studio.store[recording.id].status is RecordingStatus.INITIATED
    assert (
        await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    ).status is RecordingStatus.STOPPED


# --- egress events --------------------------------------------------------------------------------


async def test_egress_events_move_the_recording_and_the_room_metadata(studio: Studio) -> None:
    studio.live()
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    assert recording.egress_id is not None
    follow = studio.follow_egress()

    await follow.handle(egress_event(recording.egress_id, "starting", "egress_started"))
    assert studio.store[recording.id].status is RecordingStatus.INITIATED
    await follow.handle(egress_event(recording.egress_id, "active"))
    assert studio.store[recording.id].status is RecordingStatus.ACTIVE
    assert studio.sfu.metadata[str(studio.room.id)]["recording_status"] == "started"
    await follow.handle(egress_event(recording.egress_id, "complete", "egress_ended"))
    assert studio.store[recording.id].status is RecordingStatus.STOPPED
    assert studio.sfu.metadata[str(studio.room.id)]["recording_status"] == "saving"
    await follow.handle(egress_event(recording.egress_id, "active"))  # late and out of order
    assert studio.store[recording.id].status is RecordingStatus.STOPPED


async def test_egress_failures_and_unknown_egresses(studio: Studio) -> None:
    follow = studio.follow_egress()
    await follow.handle(egress_event("EG_nobody_knows", "active"))
    await follow.handle(SfuEvent(id="EV_1", kind="room_finished", room=SfuRoomName("x")))
    await follow.handle(SfuEvent(id="EV_2", kind="egress_updated"))
    first = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    assert first.egress_id is not None
    await follow.handle(egress_event(first.egress_id, "failed", "egress_ended"))
    assert studio.store[first.id].status is RecordingStatus.FAILED_TO_START
    second = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    assert second.egress_id is not None
    await follow.handle(egress_event(second.egress_id, "active"))
    await follow.handle(egress_event(second.egress_id, "aborted", "egress_ended"))
    assert studio.store[second.id].status is RecordingStatus.ABORTED


# --- storage notification -------------------------------------------------------------------------


async def test_the_stored_object_saves_the_recording_and_tells_the_admins(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))

    saved = await studio.storage_hook().execute(notification(BEARER, [stored(recording)]))

    assert [r.id for r in saved] == [recording.id]
    now = studio.clock.now()
    assert studio.store[recording.id].status is RecordingStatus.SAVED
    assert (studio.store[recording.id].saved_at, studio.store[recording.id].expires_at) == (now, now + timedelta(7))
    assert sorted(m.to for m in studio.mailer.sent) == ["admin@example.org", "owner@example.org"]
    assert all(f"/media/recordings/{recording.id}.mp4" in m.body for m in studio.mailer.sent)
    assert "Board" in studio.mailer.sent[0].subject
    # A repeated notification changes nothing and mails nobody again.
    assert await studio.storage_hook().execute(notification(BEARER, [stored(recording)])) == []
    assert len(studio.mailer.sent) == 2


async def test_the_hook_needs_its_bearer_token(studio: Studio) -> None:
    for authorization in (None, "", HOOK_TOKEN, "Bearer wrong", f"Basic {HOOK_TOKEN}"):
        with pytest.raises(InvalidStorageHookToken):
            await studio.storage_hook().execute(notification(authorization, []))
    hook = studio.storage_hook()
    hook._policy = RecordingPolicy(storage_hook_token="")
    with pytest.raises(InvalidStorageHookToken):
        await hook.execute(notification("Bearer ", []))
    assert await studio.storage_hook().execute(notification(f"bearer  {HOOK_TOKEN} ", [])) == []


async def test_objects_that_are_not_the_recording_file_are_ignored(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    key = recording.object_key
    others = [
        stored(recording, bucket="another-bucket"),
        stored(recording, content_type="text/html"),
        StoredObject(bucket="meet-media", key=key.replace(".mp4", ".ogg"), content_type="audio/ogg"),
        StoredObject(bucket="meet-media", key=f"elsewhere/{recording.id}.mp4", content_type="video/mp4"),
        StoredObject(bucket="meet-media", key=key.upper(), content_type="video/mp4"),
        StoredObject(bucket="meet-media", key="recordings/00000000-0000-0000-0000-000000000000.mp4", content_type="x"),
        StoredObject(bucket="meet-media", key=key, content_type="video/mp4", event_name="s3:ObjectRemoved:Delete"),
    ]
    assert await studio.storage_hook().execute(notification(BEARER, others)) == []
    assert studio.store[recording.id].status is RecordingStatus.INITIATED
    assert studio.mailer.sent == []


async def test_the_object_may_arrive_before_the_egress_reports_its_end(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.TRANSCRIPT)
    )
    assert recording.egress_id is not None
    await studio.storage_hook().execute(
        notification(BEARER, [stored(recording, content_type="audio/ogg; codecs=opus")])
    )
    await studio.follow_egress().handle(egress_event(recording.egress_id, "complete", "egress_ended"))
    assert studio.store[recording.id].status is RecordingStatus.SAVED
    assert await studio.recordings.ongoing_in_room(studio.room.id) is None


async def test_without_expiry_a_saved_recording_never_expires(studio: Studio) -> None:
    studio.policy = RecordingPolicy(retention_days=None, bucket="meet-media", storage_hook_token=HOOK_TOKEN)
    recording = await saved_recording(studio)
    assert recording.expires_at is None
    studio.clock.advance(3650 * 86400)
    assert await studio.media_auth().execute(MediaDownloadRequest(studio.owner, recording.media_path))


# --- media authorisation --------------------------------------------------------------------------


async def test_media_auth_answers_the_storage_headers_to_room_admins_only(studio: Studio) -> None:
    recording = await saved_recording(studio)
    url = f"https://meet.example.org{recording.media_path}"
    for viewer in (studio.owner, studio.admin):
        assert await studio.media_auth().execute(MediaDownloadRequest(viewer, url)) == {
            "Authorization": f"memory {recording.object_key}"
        }
    assert await studio.media_auth().execute(MediaDownloadRequest(studio.owner, f"{recording.media_path}?download=1"))
    with pytest.raises(AuthenticationRequired):
        await studio.media_auth().execute(MediaDownloadRequest(Viewer.anonymous(), url))
    for viewer in (studio.member, studio.stranger):
        with pytest.raises(NoRecordingAccess):
            await studio.media_auth().execute(MediaDownloadRequest(viewer, url))


@pytest.mark.parametrize(
    "path",
    [
        None,
        "",
        "/media/recordings/",
        "/media/recordings/../recordings/{id}.mp4",
        "/media/recordings/%2e%2e/{id}.mp4",
        "/media/recordings/{id}.mp4/../{id}.mp4",
        "/media/recordings/%7Bid%7D.mp4",
        "/media/recordings//{id}.mp4",
        "/media/recordings/{ID}.mp4",
        "/media/recordings/{id}.MP4",
        "/media/recordings/{id}.mp4;x",
        "/media/recordings/{id}.mp4%00",
        "/media/recordings/{id}",
        "/media/{id}.mp4",
        "//media/recordings/{id}.mp4",
        "/recordings/{id}.mp4",
    ],
)
async def test_media_auth_refuses_every_other_path(studio: Studio, path: str | None) -> None:
    recording = await saved_recording(studio)
    url = path.replace("{id}", str(recording.id)).replace("{ID}", str(recording.id).upper()) if path else path
    with pytest.raises(MediaPathRefused):
        await studio.media_auth().execute(MediaDownloadRequest(studio.owner, url))


async def test_media_auth_needs_a_saved_unexpired_recording_of_that_kind(studio: Studio) -> None:
    with pytest.raises(RecordingNotFound):
        await studio.media_auth().execute(
            MediaDownloadRequest(studio.owner, "/media/recordings/6f1c1a52-0f57-4c4b-9a39-4f43c1f7c3a0.mp4")
        )
    ongoing = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    with pytest.raises(RecordingNotAvailable):
        await studio.media_auth().execute(MediaDownloadRequest(studio.owner, ongoing.media_path))
    with pytest.raises(RecordingNotFound):
        await studio.media_auth().execute(
            MediaDownloadRequest(studio.owner, ongoing.media_path.replace(".mp4", ".ogg"))
        )
    await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    await studio.storage_hook().execute(notification(BEARER, [stored(ongoing)]))
    assert await studio.media_auth().execute(MediaDownloadRequest(studio.owner, ongoing.media_path))
    studio.clock.advance(7 * 86400 - 1)
    assert await studio.media_auth().execute(MediaDownloadRequest(studio.owner, ongoing.media_path))
    studio.clock.advance(1)
    with pytest.raises(RecordingNotAvailable):
        await studio.media_auth().execute(MediaDownloadRequest(studio.owner, ongoing.media_path))


# --- list, get, delete ----------------------------------------------------------------------------


async def test_admins_list_and_get_the_recordings_of_their_rooms(studio: Studio) -> None:
    first = await saved_recording(studio)
    studio.clock.advance(60)
    second = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.TRANSCRIPT)
    )
    page = await studio.list().execute(ListRecordingsRequest(studio.admin, limit=10, offset=0))
    assert ([r.id for r in page.items], page.total) == ([second.id, first.id], 2)
    assert (await studio.list().execute(ListRecordingsRequest(studio.member, limit=10, offset=0))).total == 0
    assert (await studio.get().execute(RecordingRequest(studio.owner, first.id))).status is RecordingStatus.SAVED
    with pytest.raises(NoRecordingAccess):
        await studio.get().execute(RecordingRequest(studio.member, first.id))
    with pytest.raises(AuthenticationRequired):
        await studio.list().execute(ListRecordingsRequest(Viewer.anonymous(), limit=10, offset=0))


async def test_only_finished_recordings_are_deleted_with_their_object(studio: Studio) -> None:
    recording = await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    with pytest.raises(RecordingNotFinished):
        await studio.delete().execute(RecordingRequest(studio.owner, recording.id))
    await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    with pytest.raises(RecordingNotFinished):  # stopped: its file is still on its way
        await studio.delete().execute(RecordingRequest(studio.owner, recording.id))
    await studio.storage_hook().execute(notification(BEARER, [stored(recording)]))
    with pytest.raises(NoRecordingAccess):
        await studio.delete().execute(RecordingRequest(studio.member, recording.id))

    await studio.delete().execute(RecordingRequest(studio.admin, recording.id))

    assert studio.storage.deleted == [recording.object_key]
    with pytest.raises(RecordingNotFound):
        await studio.get().execute(RecordingRequest(studio.owner, recording.id))
    with pytest.raises(RecordingNotFound):
        await studio.delete().execute(RecordingRequest(studio.owner, recording.id))


# --- deleting the room ------------------------------------------------------------------------------


async def test_a_deleted_room_takes_its_recordings_files_with_it(studio: Studio) -> None:
    first = await saved_recording(studio)
    second = await saved_recording(studio, RecordingMode.TRANSCRIPT)
    await studio.delete_room().execute(DeleteRoomRequest(studio.owner, RoomRef(studio.room.slug)))
    assert sorted(studio.storage.deleted) == sorted([first.object_key, second.object_key])
    assert await studio.recordings.list_in_room(studio.room.id) == []
    assert await studio.world.rooms.get(studio.room.id) is None


async def test_a_room_whose_recording_is_unfinished_is_kept_whole(studio: Studio) -> None:
    saved = await saved_recording(studio)
    await studio.start().execute(
        StartRecordingRequest(studio.owner, RoomRef(studio.room.slug), RecordingMode.SCREEN_RECORDING)
    )
    with pytest.raises(RoomRecordingsUnfinished):
        await studio.delete_room().execute(DeleteRoomRequest(studio.owner, RoomRef(studio.room.slug)))
    await studio.stop().execute(StopRecordingRequest(studio.owner, RoomRef(studio.room.slug)))
    with pytest.raises(RoomRecordingsUnfinished):  # stopped: its file may still be on its way
        await studio.delete_room().execute(DeleteRoomRequest(studio.owner, RoomRef(studio.room.slug)))
    assert studio.storage.deleted == []
    assert {r.id for r in await studio.recordings.list_in_room(studio.room.id)} >= {saved.id}
    assert await studio.world.rooms.get(studio.room.id) is not None
