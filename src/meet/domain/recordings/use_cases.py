"""Recording use cases: start and stop in a room, list, get, delete, the storage's notification,
and the download authorisation nginx asks for.

Who may access a recording: the owners and administrators of its room, now (a role taken away
takes the recordings with it).
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from meet.domain.conference.sfu import RecordingEgress, Sfu
from meet.domain.recordings.errors import (
    InvalidStorageHookToken,
    MalformedStorageNotification,
    MediaPathRefused,
    NoRecordingAccess,
    NoRecordingInProgress,
    RecordingFailedToStart,
    RecordingFailedToStop,
    RecordingInProgress,
    RecordingNotAvailable,
    RecordingNotFound,
    RecordingsDisabled,
    RecordingStateConflict,
)
from meet.domain.recordings.model import (
    Recording,
    RecordingFile,
    RecordingMode,
    RecordingOptions,
    recording_event,
)
from meet.domain.recordings.ports import (
    Mailer,
    ObjectStorage,
    RecordingReader,
    RecordingRepository,
    RecordingUnitOfWork,
)
from meet.domain.recordings.status import publish_live_metadata
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Room, RoomRef
from meet.domain.rooms.ports import RoomReader
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure
from meet.domain.shared.events import Action, Actor, AuditLog, RoomEvent
from meet.domain.users.model import User, Viewer

logger = logging.getLogger("meet.recordings")


@dataclass(frozen=True, slots=True)
class RecordingPolicy:
    """Service-wide recording settings.

    ``retention_days``: a saved recording expires that many days after it was saved (``None`` or 0:
    never). ``bucket``: the only bucket whose notifications count. ``storage_hook_token``: the bearer
    token the storage's notifications must carry (empty: every notification is refused).
    """

    enabled: bool = True
    retention_days: int | None = None
    bucket: str = "meet-media-storage"
    storage_hook_token: str = ""
    public_url: str = ""

    @property
    def retention(self) -> timedelta | None:
        return timedelta(days=self.retention_days) if self.retention_days else None


class AdministeredRecordings:
    """The authorization step of every use case on one recording: it exists, and the viewer owns or
    administers its room now (a role taken away takes the recordings with it)."""

    def __init__(self, recordings: RecordingReader, rooms: RoomReader) -> None:
        self._recordings = recordings
        self._rooms = rooms

    async def recording(self, viewer: Viewer, recording_id: uuid.UUID) -> Recording:
        viewer.require_user_id()
        recording = await self._recordings.recording(recording_id)
        if recording is None:
            raise RecordingNotFound
        await self.room_of(viewer, recording)
        return recording

    async def room_of(self, viewer: Viewer, recording: Recording) -> Room:
        user_id = viewer.require_user_id()
        room = await self._rooms.room(recording.room_id)
        if room is None:
            raise RecordingNotFound
        role = await self._rooms.role_of(room.id, user_id)
        if role is None or not role.is_admin:
            raise NoRecordingAccess
        return room


@dataclass(frozen=True, slots=True)
class StartRecordingRequest:
    viewer: Viewer
    room: RoomRef
    mode: RecordingMode
    options: RecordingOptions | None = None


class StartRecording:
    """Room admins start recording the live room; one ongoing recording per room.

    The recording is committed (taking the room's one ongoing slot) before the SFU is asked, so two
    concurrent starts cannot both reach the SFU; the SFU's answer is recorded in a second transaction.
    When the SFU refuses, the recording is kept as ``failed_to_start`` and the slot is free again.
    """

    def __init__(
        self,
        locator: RoomLocator,
        egress: RecordingEgress,
        sfu: Sfu,
        uow: RecordingUnitOfWork,
        clock: Clock,
        policy: RecordingPolicy,
    ) -> None:
        self._locator = locator
        self._egress = egress
        self._sfu = sfu
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(self, request: StartRecordingRequest) -> Recording:
        if not self._policy.enabled:
            raise RecordingsDisabled
        room = (await self._locator.administered(request.viewer, request.room)).room
        self._sfu.capabilities.require("recording")
        recording = Recording.initiate(
            room.id, request.mode, created_by=request.viewer.user_id, options=request.options, now=self._clock.now()
        )
        async with self._uow.begin() as tx:
            ongoing = await tx.recordings.ongoing_in_room(room.id)
            if ongoing is not None and ongoing.start_abandoned(self._clock.now()):
                ongoing.fail_to_start()
                await tx.recordings.update(ongoing)
                await _log(tx.audit, recording_event(ongoing, None, Actor.system(), self._clock.now()))
            elif ongoing is not None:
                raise RecordingInProgress
            await tx.recordings.add(recording)
        try:
            egress_id = await self._egress.start(
                room.sfu_room_name, object_key=recording.object_key, audio_only=request.mode.audio_only
            )
            recording.egress_started(egress_id)
        except Exception as error:
            # Refused, unreachable, timed out or answered strangely: the room's slot is free again.
            recording.fail_to_start()
            async with self._uow.begin() as tx:
                await tx.recordings.update(recording)
                await _log(tx.audit, recording_event(recording, None, Actor.sfu(), self._clock.now()))
            if isinstance(error, UpstreamFailure | ValueError):
                raise RecordingFailedToStart from error
            raise
        async with self._uow.begin() as tx:
            await tx.recordings.update(recording)
            started = recording_event(recording, Action.RECORDING_STARTED, request.viewer.actor, self._clock.now())
            await _log(tx.audit, started)
        await publish_live_metadata(self._sfu, room, recording)
        return recording


@dataclass(frozen=True, slots=True)
class StopRecordingRequest:
    viewer: Viewer
    room: RoomRef


class StopRecording:
    """Room admins stop the room's ongoing recording; the answer is what really happened.

    A refused stop leaves the recording ``failed_to_stop`` (an error, never a success); an SFU that
    cannot be reached changes nothing, so the stop can be retried.
    """

    def __init__(
        self,
        locator: RoomLocator,
        recordings: RecordingReader,
        egress: RecordingEgress,
        sfu: Sfu,
        uow: RecordingUnitOfWork,
        clock: Clock,
    ) -> None:
        self._locator = locator
        self._recordings = recordings
        self._egress = egress
        self._sfu = sfu
        self._uow = uow
        self._clock = clock

    async def execute(self, request: StopRecordingRequest) -> Recording:
        room = (await self._locator.administered(request.viewer, request.room)).room
        recording = await self._recordings.ongoing_in_room(room.id)
        if recording is None:
            raise NoRecordingInProgress
        if recording.start_abandoned(self._clock.now()):
            recording.fail_to_start()
            await self._save(room, recording, Actor.system())
            raise NoRecordingInProgress
        if recording.egress_id is None:
            raise RecordingStateConflict("The recording is still starting; try again in a moment.")
        try:
            await self._egress.stop(recording.egress_id)
        except UpstreamFailure as error:
            recording.fail_to_stop()
            await self._save(room, recording, Actor.sfu())
            raise RecordingFailedToStop from error
        recording.stop()
        await self._save(room, recording, request.viewer.actor)
        return recording

    async def _save(self, room: Room, recording: Recording, actor: Actor) -> None:
        async with self._uow.begin() as tx:
            await tx.recordings.update(recording)
            await _log(tx.audit, recording_event(recording, None, actor, self._clock.now()))
        await publish_live_metadata(self._sfu, room, recording)


@dataclass(frozen=True, slots=True)
class ListRecordingsRequest:
    viewer: Viewer
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class RecordingPage:
    items: Sequence[Recording]
    total: int


class ListRecordings:
    """The recordings of the rooms the caller owns or administers, newest first."""

    def __init__(self, recordings: RecordingReader) -> None:
        self._recordings = recordings

    async def execute(self, request: ListRecordingsRequest) -> RecordingPage:
        user_id = request.viewer.require_user_id()
        items, total = await self._recordings.administered_by(user_id, limit=request.limit, offset=request.offset)
        return RecordingPage(items=items, total=total)


@dataclass(frozen=True, slots=True)
class RecordingRequest:
    """One recording, named by its id, asked for by ``viewer``."""

    viewer: Viewer
    recording_id: uuid.UUID


class GetRecording:
    def __init__(self, administered: AdministeredRecordings) -> None:
        self._administered = administered

    async def execute(self, request: RecordingRequest) -> Recording:
        return await self._administered.recording(request.viewer, request.recording_id)


@dataclass(frozen=True, slots=True)
class RecordingDetails:
    """A recording with its room, and whether it has expired (its file is gone or going)."""

    recording: Recording
    room: Room
    is_expired: bool


class ShowRecording:
    """One recording with its room, for the owners and administrators of the room."""

    def __init__(self, administered: AdministeredRecordings, clock: Clock) -> None:
        self._administered = administered
        self._clock = clock

    async def execute(self, request: RecordingRequest) -> RecordingDetails:
        recording = await self._administered.recording(request.viewer, request.recording_id)
        room = await self._administered.room_of(request.viewer, recording)
        return RecordingDetails(recording=recording, room=room, is_expired=recording.is_expired(self._clock.now()))


class DeleteRecording:
    """Delete a finished recording and its object; the object goes first, so a storage failure leaves
    the recording in place to delete again (deleting a missing object is not an error)."""

    def __init__(self, administered: AdministeredRecordings, storage: ObjectStorage, uow: RecordingUnitOfWork) -> None:
        self._administered = administered
        self._storage = storage
        self._uow = uow

    async def execute(self, request: RecordingRequest) -> None:
        recording = await self._administered.recording(request.viewer, request.recording_id)
        recording.require_final()
        await self._storage.delete(recording.object_key)
        async with self._uow.begin() as tx:
            await tx.recordings.delete(recording.id)


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object-created notice from the storage."""

    bucket: str
    key: str
    content_type: str
    event_name: str = "s3:ObjectCreated:Put"


@dataclass(frozen=True, slots=True)
class StorageNotification:
    """``token``: the bearer token the notification came with. ``objects``: what it reports, or None
    when its body could not be read (refused, once the token is checked)."""

    token: str | None
    objects: Sequence[StoredObject] | None
    problem: str = ""  # why the body could not be read


@dataclass(frozen=True, slots=True)
class _Saved:
    recording: Recording
    room: Room | None
    recipients: tuple[User, ...]


class ReceiveStorageNotification:
    """The storage says an object was written: a recording's object marks it saved, and the people
    who may access it are told by email. Objects that are not a recording's file, in the expected
    bucket, with the content type of its mode, are acknowledged and ignored.
    """

    def __init__(
        self, uow: RecordingUnitOfWork, mailer: Mailer, sfu: Sfu, clock: Clock, policy: RecordingPolicy
    ) -> None:
        self._uow = uow
        self._mailer = mailer
        self._sfu = sfu
        self._clock = clock
        self._policy = policy

    async def execute(self, notification: StorageNotification) -> list[Recording]:
        """Answer the recordings this notification saved (none when it was about other objects)."""
        expected = self._policy.storage_hook_token
        given = notification.token or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidStorageHookToken
        if notification.objects is None:
            raise MalformedStorageNotification(notification.problem or None)
        saved = await self._save(notification.objects)
        for done in saved:
            if done.room is not None:
                await publish_live_metadata(self._sfu, done.room, done.recording)
                await self._notify(done)
        return [done.recording for done in saved]

    async def _save(self, objects: Sequence[StoredObject]) -> list[_Saved]:
        saved: list[_Saved] = []
        async with self._uow.begin() as tx:
            for stored in objects:
                recording = await self._recording_of(tx.recordings, stored)
                if recording is None:
                    continue
                try:
                    if not recording.save(self._clock.now(), self._policy.retention):
                        continue
                except RecordingStateConflict:
                    logger.warning("object %s arrived for recording %s that never started", stored.key, recording.id)
                    continue
                await tx.recordings.update(recording)
                await _log(tx.audit, recording_event(recording, None, Actor.system(), self._clock.now()))
                room = await tx.rooms.get(recording.room_id)
                recipients: list[User] = []
                if room is not None:
                    for access in await tx.accesses.list_for_room(room.id):
                        user = await tx.users.get(access.user_id) if access.role.is_admin else None
                        if user is not None and user.email:
                            recipients.append(user)
                saved.append(_Saved(recording, room, tuple(recipients)))
        return saved

    async def _recording_of(self, recordings: RecordingRepository, stored: StoredObject) -> Recording | None:
        if stored.bucket != self._policy.bucket or not stored.event_name.startswith("s3:ObjectCreated:"):
            return None
        file = RecordingFile.parse_object_key(stored.key)
        if file is None:
            return None
        recording = await recordings.get(file.recording_id)
        if recording is None or recording.mode.extension != file.extension:
            return None
        content_type = stored.content_type.split(";", 1)[0].strip().lower()
        if content_type not in recording.mode.content_types:
            logger.warning("object %s has content type %r, not a %s", stored.key, content_type, recording.mode)
            return None
        return recording

    async def _notify(self, saved: _Saved) -> None:
        """Best effort: the recording is saved whether or not the mail goes out."""
        room, recording = saved.room, saved.recording
        assert room is not None
        link = f"{self._policy.public_url.rstrip('/')}{recording.media_path}"
        expiry = f"\nIt will be deleted on {recording.expires_at:%Y-%m-%d}." if recording.expires_at else ""
        subject = f"Your recording of {room.name} is ready"
        body = f"The recording of the room {room.name} is ready.\n\nDownload it (signed in) at:\n{link}\n{expiry}"
        for user in saved.recipients:
            try:
                await self._mailer.send(user.email or "", subject, body)
            except (ServiceUnavailable, UpstreamFailure) as error:
                logger.warning("could not tell %s that recording %s is ready: %s", user.id, recording.id, error)


async def _log(audit: AuditLog, event: RoomEvent | None) -> None:
    if event is not None:
        await audit.append(event)


def media_file(original_url: str | None) -> RecordingFile | None:
    """The recording file an original request URL names, read strictly from the raw (undecoded) URL:
    an encoded character, a dot segment or an extra slash names nothing."""
    if not original_url:
        return None
    try:
        path = urlsplit(original_url).path
    except ValueError:
        return None
    return RecordingFile.parse_media_path(path)


@dataclass(frozen=True, slots=True)
class MediaDownloadRequest:
    """``original_url``: the URL the proxy in front of storage was asked for, as it received it."""

    viewer: Viewer
    original_url: str | None


class AuthorizeMediaDownload:
    """The proxy in front of storage asks whether this caller may download this URL.

    Only ``/media/recordings/{uuid}.{ext}`` of a saved, unexpired recording the caller may access is
    allowed; the answer is the storage headers the proxy forwards.
    """

    def __init__(
        self,
        recordings: RecordingReader,
        administered: AdministeredRecordings,
        storage: ObjectStorage,
        clock: Clock,
        audit: AuditLog,
    ) -> None:
        self._recordings = recordings
        self._administered = administered
        self._storage = storage
        self._clock = clock
        self._audit = audit

    async def execute(self, request: MediaDownloadRequest) -> dict[str, str]:
        request.viewer.require_user_id()
        file = media_file(request.original_url)
        if file is None:
            raise MediaPathRefused
        recording = await self._recordings.recording(file.recording_id)
        if recording is None or recording.mode.extension != file.extension:
            raise RecordingNotFound
        await self._administered.room_of(request.viewer, recording)
        if not recording.is_downloadable(self._clock.now()):
            raise RecordingNotAvailable
        headers = self._storage.signed_get_headers(recording.object_key)
        # Logged once allowed: each request the proxy lets through (a player's range requests included).
        downloaded = recording_event(recording, Action.RECORDING_DOWNLOADED, request.viewer.actor, self._clock.now())
        await _log(self._audit, downloaded)
        return headers
