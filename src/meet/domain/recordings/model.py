"""The recording entity and its life cycle.

::

    initiated --started--> initiated (egress id known) --egress active--> active
        |                                                                     |
        +--egress refused--> failed_to_start          stop / egress ended --> stopped
                                                      stop refused -------> failed_to_stop
    any state but failed_to_start --object stored--> saved
    ongoing --egress failed/aborted--> aborted (failed_to_start before the egress was active)

At most one recording per room is ongoing (initiated or active). A recording is saved when its
object lands in storage, whatever the order in which the SFU's events and the storage's
notification arrive.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from meet.domain.recordings.errors import RecordingNotFinished, RecordingStateConflict
from meet.domain.shared.events import Action, Actor, RoomEvent

RECORDINGS_FOLDER = "recordings"
# Far longer than the SFU's timeout on a start (seconds): an initiated recording without an egress id
# this old will never get one.
START_ABANDONED_AFTER = timedelta(minutes=2)
MEDIA_PREFIX = "/media/recordings/"
_FILE = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(mp4|ogg)$")


class RecordingMode(enum.StrEnum):
    SCREEN_RECORDING = "screen_recording"
    TRANSCRIPT = "transcript"

    @property
    def extension(self) -> str:
        return "mp4" if self is RecordingMode.SCREEN_RECORDING else "ogg"

    @property
    def audio_only(self) -> bool:
        return self is RecordingMode.TRANSCRIPT

    @property
    def content_types(self) -> frozenset[str]:
        """What the stored object may be labelled as (the egress uploads ``video/mp4`` / ``audio/ogg``)."""
        if self is RecordingMode.SCREEN_RECORDING:
            return frozenset({"video/mp4"})
        return frozenset({"audio/ogg", "application/ogg"})


class RecordingStatus(enum.StrEnum):
    INITIATED = "initiated"
    ACTIVE = "active"
    STOPPED = "stopped"
    SAVED = "saved"
    ABORTED = "aborted"
    FAILED_TO_START = "failed_to_start"
    FAILED_TO_STOP = "failed_to_stop"

    @property
    def is_ongoing(self) -> bool:
        return self in ONGOING

    @property
    def is_final(self) -> bool:
        return self in FINAL


ONGOING = frozenset({RecordingStatus.INITIATED, RecordingStatus.ACTIVE})
FINAL = frozenset(
    {RecordingStatus.SAVED, RecordingStatus.ABORTED, RecordingStatus.FAILED_TO_START, RecordingStatus.FAILED_TO_STOP}
)


@dataclass(frozen=True, slots=True)
class RecordingOptions:
    """What the requester may choose; ``language`` is the spoken language of a transcript."""

    language: str | None = None


@dataclass(frozen=True, slots=True)
class RecordingFile:
    """A recording's object, as named in storage (``recordings/{id}.{ext}``) and in a media URL."""

    recording_id: uuid.UUID
    extension: str

    @property
    def name(self) -> str:
        return f"{self.recording_id}.{self.extension}"

    @property
    def object_key(self) -> str:
        return f"{RECORDINGS_FOLDER}/{self.name}"

    @classmethod
    def parse_name(cls, name: str) -> RecordingFile | None:
        """``{uuid}.{mp4|ogg}`` in canonical lower-case form, or ``None``: nothing else names a file."""
        match = _FILE.fullmatch(name)
        if match is None:
            return None
        return cls(uuid.UUID(match.group(1)), match.group(2))

    @classmethod
    def parse_object_key(cls, key: str) -> RecordingFile | None:
        folder, slash, name = key.partition("/")
        if folder != RECORDINGS_FOLDER or not slash:
            return None
        return cls.parse_name(name)

    @classmethod
    def parse_media_path(cls, path: str) -> RecordingFile | None:
        """The file a media URL path names; only the exact form ``/media/recordings/{uuid}.{ext}``."""
        if not path.startswith(MEDIA_PREFIX):
            return None
        return cls.parse_name(path[len(MEDIA_PREFIX) :])


@dataclass(slots=True)
class Recording:
    id: uuid.UUID
    room_id: uuid.UUID
    mode: RecordingMode
    created_by: uuid.UUID | None
    status: RecordingStatus = RecordingStatus.INITIATED
    egress_id: str | None = None
    options: RecordingOptions = field(default_factory=RecordingOptions)
    created_at: datetime | None = None
    saved_at: datetime | None = None
    expires_at: datetime | None = None

    @classmethod
    def initiate(
        cls,
        room_id: uuid.UUID,
        mode: RecordingMode,
        *,
        created_by: uuid.UUID | None,
        options: RecordingOptions | None = None,
        now: datetime | None = None,
    ) -> Recording:
        return cls(
            id=uuid.uuid4(),
            room_id=room_id,
            mode=mode,
            created_by=created_by,
            options=options or RecordingOptions(),
            created_at=now,
        )

    @property
    def file(self) -> RecordingFile:
        return RecordingFile(self.id, self.mode.extension)

    @property
    def object_key(self) -> str:
        return self.file.object_key

    @property
    def media_path(self) -> str:
        return f"{MEDIA_PREFIX}{self.file.name}"

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def is_downloadable(self, now: datetime) -> bool:
        return self.status is RecordingStatus.SAVED and not self.is_expired(now)

    # --- transitions ------------------------------------------------------------------------------

    def _require(self, *allowed: RecordingStatus) -> None:
        if self.status not in allowed:
            raise RecordingStateConflict(f"A recording that is {self.status.value} cannot do this.")

    def egress_started(self, egress_id: str) -> None:
        """The SFU accepted to record; it reports the egress as active later (``egress_reported``)."""
        self._require(RecordingStatus.INITIATED)
        if not egress_id:
            raise ValueError("an egress id is required")
        self.egress_id = egress_id

    def fail_to_start(self) -> None:
        self._require(RecordingStatus.INITIATED)
        self.status = RecordingStatus.FAILED_TO_START

    def start_abandoned(self, now: datetime) -> bool:
        """Still waiting for the SFU's answer long after any answer could come: the process that asked
        died in between (or its last write failed). Such a recording is treated as ``failed_to_start``."""
        return (
            self.status is RecordingStatus.INITIATED
            and self.egress_id is None
            and self.created_at is not None
            and now - self.created_at >= START_ABANDONED_AFTER
        )

    def stop(self) -> None:
        self._require(*ONGOING)
        self.status = RecordingStatus.STOPPED

    def fail_to_stop(self) -> None:
        self._require(*ONGOING)
        self.status = RecordingStatus.FAILED_TO_STOP

    def egress_reported(self, egress_status: str) -> bool:
        """Follow what the SFU says of the egress; answer whether the status changed.

        Reports are unordered and repeated, so a report never moves a recording backwards: a
        late "active" after the stop, or an "ended" after the object was saved, changes nothing.
        """
        before = self.status
        if egress_status == "active":
            if self.status is RecordingStatus.INITIATED:
                self.status = RecordingStatus.ACTIVE
        elif egress_status in {"complete", "limit_reached"}:
            # The egress wrote its file (a time limit still leaves one): it will be saved.
            if self.status.is_ongoing or self.status is RecordingStatus.FAILED_TO_STOP:
                self.status = RecordingStatus.STOPPED
        elif egress_status in {"failed", "aborted"}:
            if self.status is RecordingStatus.INITIATED:
                self.status = RecordingStatus.FAILED_TO_START
            elif self.status in {RecordingStatus.ACTIVE, RecordingStatus.FAILED_TO_STOP}:
                self.status = RecordingStatus.ABORTED
        return self.status is not before

    def save(self, now: datetime, retention: timedelta | None) -> bool:
        """Its object is in storage; answer whether it was newly saved (a repeated notice changes nothing).

        The object is the proof: whatever the SFU reported, the recording exists. Only a recording
        whose egress never started cannot have produced it.
        """
        if self.status is RecordingStatus.SAVED:
            return False
        if self.status is RecordingStatus.FAILED_TO_START and self.egress_id is None:
            raise RecordingStateConflict("This recording never started; no file can be its own.")
        self.status = RecordingStatus.SAVED
        self.saved_at = now
        self.expires_at = now + retention if retention else None
        return True

    def require_final(self) -> None:
        if not self.status.is_final:
            raise RecordingNotFinished


_STATUS_ACTIONS = {
    RecordingStatus.STOPPED: Action.RECORDING_STOPPED,
    RecordingStatus.SAVED: Action.RECORDING_SAVED,
    RecordingStatus.ABORTED: Action.RECORDING_FAILED,
    RecordingStatus.FAILED_TO_START: Action.RECORDING_FAILED,
    RecordingStatus.FAILED_TO_STOP: Action.RECORDING_FAILED,
}


def recording_event(recording: Recording, action: Action | None, actor: Actor, at: datetime) -> RoomEvent | None:
    """The event of a recording's change: ``action``, or else the one its new status stands for (none for a
    status the SFU merely confirms, such as ``active`` after the start was logged)."""
    action = action or _STATUS_ACTIONS.get(recording.status)
    if action is None:
        return None
    details = {"recording_id": str(recording.id), "mode": recording.mode.value, "status": recording.status.value}
    return RoomEvent(recording.room_id, action, at, actor, details=details)
