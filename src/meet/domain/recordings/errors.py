from __future__ import annotations

from meet.domain.shared.errors import (
    AuthenticationRequired,
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    UpstreamFailure,
)


class RecordingNotFound(NotFound):
    default_message = "No such recording."
    code = "recording_not_found"


class NoRecordingInProgress(NotFound):
    default_message = "No recording is in progress in this room."
    code = "no_recording_in_progress"


class RecordingsDisabled(NotFound):
    default_message = "Recording is not enabled on this server."
    code = "recordings_disabled"


class RecordingInProgress(Conflict):
    default_message = "A recording is already in progress in this room."
    code = "recording_in_progress"


class RecordingNotFinished(Conflict):
    default_message = "Only a finished recording (saved, aborted or failed) can be deleted."
    code = "recording_not_finished"


class RoomRecordingsUnfinished(Conflict):
    default_message = (
        "The room has a recording that is not finished yet: stop it and wait until it is saved, then delete the room."
    )
    code = "room_recordings_unfinished"


class RecordingStateConflict(Conflict):
    default_message = "The recording cannot make this change in its current state."
    code = "recording_state_conflict"


class RecordingFailedToStart(UpstreamFailure):
    default_message = "The media server failed to start the recording; you may try again."
    code = "recording_failed_to_start"


class RecordingFailedToStop(UpstreamFailure):
    default_message = "The media server failed to stop the recording."
    code = "recording_failed_to_stop"


class NoRecordingAccess(PermissionDenied):
    default_message = "Only the owners and administrators of the recording's room may access it."
    code = "no_recording_access"


class MediaPathRefused(PermissionDenied):
    default_message = "This path does not name a recording file."
    code = "media_path_refused"


class RecordingNotAvailable(PermissionDenied):
    default_message = "This recording is not available for download (not saved yet, or expired)."
    code = "recording_not_available"


class MalformedStorageNotification(BadRequest):
    default_message = "The storage notification is not a bucket event (S3/MinIO format)."
    code = "malformed_storage_notification"


class InvalidStorageHookToken(AuthenticationRequired):
    default_message = "The storage notification token is missing or wrong."
    code = "invalid_storage_hook_token"


class StorageUnavailable(ServiceUnavailable):
    default_message = "The recording storage cannot be reached; try again shortly."
    code = "storage_unavailable"


class StorageRequestFailed(UpstreamFailure):
    default_message = "The recording storage refused or failed the request."
    code = "storage_request_failed"
