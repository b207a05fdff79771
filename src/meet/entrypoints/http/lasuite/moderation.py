"""The live room's moderation and recording calls, as La Suite Meet's app sends them: admins with their
session, participants with their own LiveKit token as Bearer (which says who they are)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, delete, get, post, route
from litestar.params import JSONBody

from meet.domain.conference.model import SERVER_OWNED_ATTRIBUTES
from meet.domain.moderation.use_cases import (
    FORBIDDEN_PERMISSIONS,
    ChangeParticipant,
    ChangeParticipantRequest,
    MuteTrack,
    MuteTrackRequest,
    RaiseHand,
    RaiseHandRequest,
    RemoveParticipant,
    RemoveParticipantRequest,
    RenameSelf,
    RenameSelfRequest,
)
from meet.domain.recordings.model import RecordingMode, RecordingOptions, RecordingStatus
from meet.domain.recordings.use_cases import (
    RecordingDetails,
    RecordingRequest,
    ShowRecording,
    StartRecording,
    StartRecordingRequest,
    StopRecording,
    StopRecordingRequest,
)
from meet.domain.rooms.model import Role, RoomRef, TrackSource
from meet.domain.shared.errors import NotFound
from meet.domain.users.model import Viewer
from meet.entrypoints.http.lasuite.schemas import Message, Status
from meet.entrypoints.http.schemas import AccessLevelName, RequiredDisplayName, SourceName, bearer_token

Identity = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AttributeValue = Annotated[str, msgspec.Meta(max_length=1024)]
Language = Annotated[str, msgspec.Meta(min_length=1, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]
# The app's names for the statuses meet spells differently (features/recording/types.ts).
STATUS_NAMES = {RecordingStatus.FAILED_TO_START: "failedToStart", RecordingStatus.FAILED_TO_STOP: "failedToStop"}


class FeatureOff(NotFound):
    default_message = "This feature is not available on this server."
    code = "feature_not_available"


class MuteBody(msgspec.Struct):
    participant_identity: Identity
    track_sid: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class HandBody(msgspec.Struct):
    raised: bool


class RenameBody(msgspec.Struct):
    name: RequiredDisplayName


class ParticipantBody(msgspec.Struct):
    participant_identity: Identity


class PermissionBody(msgspec.Struct):
    """LiveKit's permission as the app sends it: only the sources are the app's to choose."""

    can_publish_sources: list[SourceName] | None = None
    hidden: bool | None = None
    recorder: bool | None = None
    agent: bool | None = None


class UpdateParticipantBody(msgspec.Struct):
    participant_identity: Identity
    attributes: dict[AttributeKey, AttributeValue] | None = None
    permission: PermissionBody | None = None
    name: RequiredDisplayName | None = None

    def to_request(self, viewer: Viewer, room: RoomRef) -> ChangeParticipantRequest:
        permission = self.permission or PermissionBody()
        sources = permission.can_publish_sources
        # The app sends the participant's whole attributes back, the server's own among them, unchanged.
        attributes = {k: v for k, v in (self.attributes or {}).items() if k not in SERVER_OWNED_ATTRIBUTES}
        return ChangeParticipantRequest(
            viewer,
            room,
            self.participant_identity,
            name=self.name,
            attributes=attributes or None,
            publish_sources=None if sources is None else tuple(dict.fromkeys(TrackSource(s) for s in sources)),
            forbidden_permissions=tuple(f for f in FORBIDDEN_PERMISSIONS if getattr(permission, f)),
        )


class RoleBody(msgspec.Struct):
    participant_identity: Identity
    role: Literal["member", "administrator"]


class RecordingStartBody(msgspec.Struct):
    mode: Literal["screen_recording", "transcript"]
    options: dict[str, str | bool] | None = None

    def recording_options(self) -> RecordingOptions | None:
        language = (self.options or {}).get("language")
        if not isinstance(language, str):
            return None
        return RecordingOptions(language=msgspec.convert(language, Language))


class RecordingRoom(msgspec.Struct):
    id: str
    name: str
    slug: str
    access_level: AccessLevelName


class RecordingOut(msgspec.Struct):
    """``RecordingApi`` of the download page; ``key`` is the file's path under ``/media/``."""

    id: str
    room: RecordingRoom
    created_at: datetime | None
    key: str
    mode: str
    status: str
    is_expired: bool
    expired_at: datetime | None

    @classmethod
    def of(cls, details: RecordingDetails) -> RecordingOut:
        recording, room = details.recording, details.room
        return cls(
            id=str(recording.id),
            room=RecordingRoom(id=str(room.id), name=room.name, slug=room.slug, access_level=room.access_level.value),
            created_at=recording.created_at,
            key=recording.object_key,
            mode=recording.mode.value,
            status=STATUS_NAMES.get(recording.status, recording.status.value),
            is_expired=details.is_expired,
            expired_at=recording.expires_at,
        )


class LaSuiteModerationController(Controller):
    path = "/rooms/{room_key:str}"
    tags = ["La Suite Meet"]

    @post("/mute-participant", status_code=200, summary="Mute a track (admins, or everyone where the room says)")
    async def mute(
        self,
        room_key: str,
        data: JSONBody[MuteBody],
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        mute_track: FromDishka[MuteTrack],
    ) -> Status:
        await mute_track.execute(
            MuteTrackRequest(
                viewer, RoomRef(room_key), data.participant_identity, data.track_sid, bearer=bearer_token(request)
            )
        )
        return Status()

    @post("/toggle-hand", status_code=200, summary="Raise or lower one's own hand (LiveKit token)")
    async def toggle_hand(
        self,
        room_key: str,
        data: JSONBody[HandBody],
        request: Request[Any, Any, Any],
        raise_hand: FromDishka[RaiseHand],
    ) -> Status:
        await raise_hand.execute(
            RaiseHandRequest(RoomRef(room_key), None, raised=data.raised, bearer=bearer_token(request))
        )
        return Status()

    @post("/rename", status_code=200, summary="Rename oneself (LiveKit token)")
    async def rename(
        self, room_key: str, data: JSONBody[RenameBody], request: Request[Any, Any, Any], rename: FromDishka[RenameSelf]
    ) -> Status:
        await rename.execute(RenameSelfRequest(RoomRef(room_key), None, name=data.name, bearer=bearer_token(request)))
        return Status()

    @post("/remove-participant", status_code=200, summary="Remove from the live room (admins)")
    async def remove(
        self,
        room_key: str,
        data: JSONBody[ParticipantBody],
        viewer: FromDishka[Viewer],
        remove: FromDishka[RemoveParticipant],
    ) -> Status:
        await remove.execute(RemoveParticipantRequest(viewer, RoomRef(room_key), data.participant_identity))
        return Status()

    @post("/update-participant", status_code=200, summary="Change a participant's publishing, name or attributes")
    async def update_participant(
        self,
        room_key: str,
        data: JSONBody[UpdateParticipantBody],
        viewer: FromDishka[Viewer],
        change: FromDishka[ChangeParticipant],
    ) -> Status:
        await change.execute(data.to_request(viewer, RoomRef(room_key)))
        return Status()

    @post("/update-participant-role", status_code=200, summary="Promote or demote a participant (admins)")
    async def update_participant_role(
        self,
        room_key: str,
        data: JSONBody[RoleBody],
        viewer: FromDishka[Viewer],
        change: FromDishka[ChangeParticipant],
    ) -> dict[str, str]:
        result = await change.execute(
            ChangeParticipantRequest(viewer, RoomRef(room_key), data.participant_identity, role=Role(data.role))
        )
        return {"status": "success", "role": result.role.value if result.role else data.role}

    @post("/start-recording", status_code=201, summary="Start recording the live room (admins)")
    async def start_recording(
        self,
        room_key: str,
        data: JSONBody[RecordingStartBody],
        viewer: FromDishka[Viewer],
        start: FromDishka[StartRecording],
    ) -> Message:
        await start.execute(
            StartRecordingRequest(viewer, RoomRef(room_key), RecordingMode(data.mode), data.recording_options())
        )
        return Message(message="Recording successfully started.")

    @post("/stop-recording", status_code=200, summary="Stop the room's recording (admins)")
    async def stop_recording(
        self, room_key: str, viewer: FromDishka[Viewer], stop: FromDishka[StopRecording]
    ) -> Message:
        await stop.execute(StopRecordingRequest(viewer, RoomRef(room_key)))
        return Message(message="Recording stopped.")

    @post("/start-subtitle", status_code=200, summary="Off: meet offers no live subtitles")
    async def start_subtitle(self, room_key: str) -> None:  # noqa: ARG002 - refused whatever the room
        raise FeatureOff("Live subtitles are not available on this server.")


class LaSuiteRecordingController(Controller):
    path = "/recordings"
    tags = ["La Suite Meet"]

    @get("/{recording_id:uuid}", summary="One recording, for the download page (its room's admins)")
    async def recording(
        self, recording_id: uuid.UUID, viewer: FromDishka[Viewer], show: FromDishka[ShowRecording]
    ) -> RecordingOut:
        return RecordingOut.of(await show.execute(RecordingRequest(viewer, recording_id)))


class LaSuiteFeaturesOffController(Controller):
    """What the app calls only when ``config/`` enables it; meet reports it off, and refuses it if called."""

    tags = ["La Suite Meet"]

    @post("/rooms/creation-callback", status_code=200, summary="Off: no SDK room-creation callback")
    async def creation_callback(self) -> None:
        raise FeatureOff("The room creation callback is not available on this server.")

    @get(["/files", "/files/{rest:path}"], summary="Off: no background image uploads")
    async def list_files(self) -> Response[None]:
        raise FeatureOff("File uploads are not available on this server.")

    @post(["/files", "/files/{rest:path}"], status_code=200, summary="Off: no background image uploads")
    async def upload_files(self) -> None:
        raise FeatureOff("File uploads are not available on this server.")

    @delete("/files/{rest:path}", status_code=204, summary="Off: no background image uploads")
    async def delete_file(self) -> None:
        raise FeatureOff("File uploads are not available on this server.")

    @post("/diagnostics/connection", status_code=200, summary="Off: no connection test")
    async def diagnostics(self) -> None:
        raise FeatureOff("The connection test is not available on this server.")


class LaSuiteUnknownPaths(Controller):
    """Any other path under ``/api/v1.0``: a 404 in La Suite's shape, like every answer of the surface."""

    include_in_schema = False

    @route(
        "/{rest:path}",
        http_method=["GET", "POST", "PUT", "PATCH", "DELETE"],
        status_code=404,
        summary="No such call",
    )
    async def unknown(self, rest: str) -> None:  # noqa: ARG002 - whatever it names
        raise NotFound("No such call in La Suite Meet's API.")
