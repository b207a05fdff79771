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
from meet.domain.recordings.model import Recording, RecordingFile, RecordingMode, RecordingOptions
from meet.domain.recordings.ports import Mailer, ObjectStorage, RecordingRepository
from meet.domain.recordings.status import publish_recording_status
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Room
from meet.domain.rooms.ports import RoomAccessRepository, RoomRepository
from meet.domain.rooms.use_cases import require_admin, require_user
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import Viewer
from meet.domain.users.ports import UserRepository

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


async def _accessible(rooms: RoomRepository, locator: RoomLocator, recording: Recording, viewer: Viewer) -> Room:
    """The recording's room, when the viewer owns or administers it."""
    require_user(viewer)
    room = await rooms.get(recording.room_id)
    if room is None:
        raise RecordingNotFound
    role = await locator.role_of(room, viewer)
    if role is None or not role.is_admin:
        raise NoRecordingAccess
    return room


async def _administered_recording(
    recordings: RecordingRepository,
    rooms: RoomRepository,
    locator: RoomLocator,
    viewer: Viewer,
    recording_id: uuid.UUID,
) -> Recording:
    """The recording, when the viewer owns or administers its room."""
    require_user(viewer)
    recording = await recordings.get(recording_id)
    if recording is None:
        raise RecordingNotFound
    await _accessible(rooms, locator, recording, viewer)
    return recording


class StartRecording:
    """Room admins start recording the live room; one ongoing recording per room.

    The recording is committed (taking the room's one ongoing slot) before the SFU is asked, so two
    concurrent starts cannot both reach the SFU. When the SFU refuses, the recording is kept as
    ``failed_to_start`` and the slot is free again.
    """

    def __init__(
        self,
        locator: RoomLocator,
        recordings: RecordingRepository,
        egress: RecordingEgress,
        sfu: Sfu,
        uow: UnitOfWork,
        clock: Clock,
        policy: RecordingPolicy,
    ) -> None:
        self._locator = locator
        self._recordings = recordings
        self._egress = egress
        self._sfu = sfu
        self._uow = uow
        self._clock = clock
        self._policy = policy

    async def execute(
        self, viewer: Viewer, id_or_slug: str, mode: RecordingMode, options: RecordingOptions | None = None
    ) -> Recording:
        if not self._policy.enabled:
            raise RecordingsDisabled
        room = await self._locator.locate_registered(id_or_slug)
        await require_admin(self._locator, room, viewer)
        if await self._recordings.ongoing_in_room(room.id) is not None:
            raise RecordingInProgress
        recording = Recording.initiate(room.id, mode, created_by=viewer.user_id, options=options, now=self._clock.now())
        await self._recordings.add(recording)
        await self._uow.commit()
        try:
            egress_id = await self._egress.start(
                room.sfu_room_name, object_key=recording.object_key, audio_only=mode.audio_only
            )
        except Exception as error:
            recording.fail_to_start()
            await self._recordings.update(recording)
            await self._uow.commit()
            if isinstance(error, UpstreamFailure):
                raise RecordingFailedToStart from error
            raise
        recording.egress_started(egress_id)
        await self._recordings.update(recording)
        await self._uow.commit()
        await publish_recording_status(self._sfu, room, recording.status)
        return recording


class StopRecording:
    """Room admins stop the room's ongoing recording; the answer is what really happened.

    A refused stop leaves the recording ``failed_to_stop`` (an error, never a success); an SFU that
    cannot be reached changes nothing, so the stop can be retried.
    """

    def __init__(
        self,
        locator: RoomLocator,
        recordings: RecordingRepository,
        egress: RecordingEgress,
        sfu: Sfu,
        uow: UnitOfWork,
    ) -> None:
        self._locator = locator
        self._recordings = recordings
        self._egress = egress
        self._sfu = sfu
        self._uow = uow

    async def execute(self, viewer: Viewer, id_or_slug: str) -> Recording:
        room = await self._locator.locate_registered(id_or_slug)
        await require_admin(self._locator, room, viewer)
        recording = await self._recordings.ongoing_in_room(room.id)
        if recording is None:
            raise NoRecordingInProgress
        if recording.egress_id is None:
            raise RecordingStateConflict("The recording is still starting; try again in a moment.")
        try:
            await self._egress.stop(recording.egress_id)
        except UpstreamFailure as error:
            recording.fail_to_stop()
            await self._recordings.update(recording)
            await self._uow.commit()
            await publish_recording_status(self._sfu, room, recording.status)
            raise RecordingFailedToStop from error
        recording.stop()
        await self._recordings.update(recording)
        await self._uow.commit()
        await publish_recording_status(self._sfu, room, recording.status)
        return recording


@dataclass(frozen=True, slots=True)
class RecordingPage:
    items: Sequence[Recording]
    total: int


class ListRecordings:
    """The recordings of the rooms the caller owns or administers, newest first."""

    def __init__(self, recordings: RecordingRepository) -> None:
        self._recordings = recordings

    async def execute(self, viewer: Viewer, *, limit: int, offset: int) -> RecordingPage:
        user_id = require_user(viewer)
        items, total = await self._recordings.list_administered_by(user_id, limit=limit, offset=offset)
        return RecordingPage(items=items, total=total)


class GetRecording:
    def __init__(self, locator: RoomLocator, rooms: RoomRepository, recordings: RecordingRepository) -> None:
        self._locator = locator
        self._rooms = rooms
        self._recordings = recordings

    async def execute(self, viewer: Viewer, recording_id: uuid.UUID) -> Recording:
        return await _administered_recording(self._recordings, self._rooms, self._locator, viewer, recording_id)


class DeleteRecording:
    """Delete a finished recording and its object; the object goes first, so a storage failure leaves
    the recording in place to delete again (deleting a missing object is not an error)."""

    def __init__(
        self,
        locator: RoomLocator,
        rooms: RoomRepository,
        recordings: RecordingRepository,
        storage: ObjectStorage,
        uow: UnitOfWork,
    ) -> None:
        self._locator = locator
        self._rooms = rooms
        self._recordings = recordings
        self._storage = storage
        self._uow = uow

    async def execute(self, viewer: Viewer, recording_id: uuid.UUID) -> None:
        recording = await _administered_recording(self._recordings, self._rooms, self._locator, viewer, recording_id)
        recording.require_final()
        await self._storage.delete(recording.object_key)
        await self._recordings.delete(recording.id)
        await self._uow.commit()


@dataclass(frozen=True, slots=True)
class StoredObject:
    """One object-created notice from the storage."""

    bucket: str
    key: str
    content_type: str
    event_name: str = "s3:ObjectCreated:Put"


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class ReceiveStorageNotification:
    """The storage says an object was written: a recording's object marks it saved, and the people
    who may access it are told by email. Objects that are not a recording's file, in the expected
    bucket, with the content type of its mode, are acknowledged and ignored.
    """

    def __init__(
        self,
        recordings: RecordingRepository,
        rooms: RoomRepository,
        accesses: RoomAccessRepository,
        users: UserRepository,
        mailer: Mailer,
        sfu: Sfu,
        uow: UnitOfWork,
        clock: Clock,
        policy: RecordingPolicy,
    ) -> None:
        self._recordings = recordings
        self._rooms = rooms
        self._accesses = accesses
        self._users = users
        self._mailer = mailer
        self._sfu = sfu
        self._uow = uow
        self._clock = clock
        self._policy = policy

    def authenticate(self, authorization: str | None) -> None:
        expected = self._policy.storage_hook_token
        given = _bearer(authorization)
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise InvalidStorageHookToken

    async def execute(self, authorization: str | None, objects: Sequence[StoredObject]) -> list[Recording]:
        """Answer the recordings this notification saved (none when it was about other objects)."""
        self.authenticate(authorization)
        saved: list[Recording] = []
        for stored in objects:
            recording = await self._recording_of(stored)
            if recording is None:
                continue
            try:
                if not recording.save(self._clock.now(), self._policy.retention):
                    continue
            except RecordingStateConflict:
                logger.warning("object %s arrived for recording %s that never started", stored.key, recording.id)
                continue
            await self._recordings.update(recording)
            await self._uow.commit()
            saved.append(recording)
            room = await self._rooms.get(recording.room_id)
            if room is not None:
                await publish_recording_status(self._sfu, room, recording.status)
                await self._notify(room, recording)
        return saved

    async def _recording_of(self, stored: StoredObject) -> Recording | None:
        if stored.bucket != self._policy.bucket or not stored.event_name.startswith("s3:ObjectCreated:"):
            return None
        file = RecordingFile.parse_object_key(stored.key)
        if file is None:
            return None
        recording = await self._recordings.get(file.recording_id)
        if recording is None or recording.mode.extension != file.extension:
            return None
        content_type = stored.content_type.split(";", 1)[0].strip().lower()
        if content_type not in recording.mode.content_types:
            logger.warning("object %s has content type %r, not a %s", stored.key, content_type, recording.mode)
            return None
        return recording

    async def _notify(self, room: Room, recording: Recording) -> None:
        """Best effort: the recording is saved whether or not the mail goes out."""
        link = f"{self._policy.public_url.rstrip('/')}{recording.media_path}"
        expiry = f"\nIt will be deleted on {recording.expires_at:%Y-%m-%d}." if recording.expires_at else ""
        subject = f"Your recording of {room.name} is ready"
        body = f"The recording of the room {room.name} is ready.\n\nDownload it (signed in) at:\n{link}\n{expiry}"
        for access in await self._accesses.list_for_room(room.id):
            if not access.role.is_admin:
                continue
            user = await self._users.get(access.user_id)
            if user is None or not user.email:
                continue
            try:
                await self._mailer.send(user.email, subject, body)
            except (ServiceUnavailable, UpstreamFailure) as error:
                logger.warning("could not tell %s that recording %s is ready: %s", user.id, recording.id, error)


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


class AuthorizeMediaDownload:
    """The proxy in front of storage asks whether this caller may download this URL.

    Only ``/media/recordings/{uuid}.{ext}`` of a saved, unexpired recording the caller may access is
    allowed; the answer is the storage headers the proxy forwards.
    """

    def __init__(
        self,
        locator: RoomLocator,
        rooms: RoomRepository,
        recordings: RecordingRepository,
        storage: ObjectStorage,
        clock: Clock,
    ) -> None:
        self._locator = locator
        self._rooms = rooms
        self._recordings = recordings
        self._storage = storage
        self._clock = clock

    async def execute(self, viewer: Viewer, original_url: str | None) -> dict[str, str]:
        require_user(viewer)
        file = media_file(original_url)
        if file is None:
            raise MediaPathRefused
        recording = await self._recordings.get(file.recording_id)
        if recording is None or recording.mode.extension != file.extension:
            raise RecordingNotFound
        await _accessible(self._rooms, self._locator, recording, viewer)
        if not recording.is_downloadable(self._clock.now()):
            raise RecordingNotAvailable
        return self._storage.signed_get_headers(recording.object_key)
