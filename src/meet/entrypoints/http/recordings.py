"""Recordings over HTTP: start/stop in a room, list/get/delete, the storage's notification hook,
and the ``media-auth`` target of nginx's ``auth_request``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, Parameter

from meet.domain.recordings.model import Recording, RecordingMode, RecordingOptions
from meet.domain.recordings.use_cases import (
    AuthorizeMediaDownload,
    DeleteRecording,
    GetRecording,
    ListRecordings,
    ListRecordingsRequest,
    MediaDownloadRequest,
    ReceiveStorageNotification,
    RecordingRequest,
    StartRecording,
    StartRecordingRequest,
    StopRecording,
    StopRecordingRequest,
    StorageNotification,
    StoredObject,
)
from meet.domain.rooms.model import RoomRef
from meet.domain.users.model import Viewer
from meet.entrypoints.http.schemas import MAX_OFFSET, bearer_token

RecordingModeName = Literal["screen_recording", "transcript"]
RecordingStatusName = Literal["initiated", "active", "stopped", "saved", "aborted", "failed_to_start", "failed_to_stop"]
Language = Annotated[str, msgspec.Meta(min_length=1, max_length=35, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")]


class RecordingOptionsBody(msgspec.Struct, forbid_unknown_fields=True):
    language: Language | None = None


class RecordingStart(msgspec.Struct, forbid_unknown_fields=True):
    mode: RecordingModeName
    options: RecordingOptionsBody | None = None


class RecordingOut(msgspec.Struct):
    id: uuid.UUID
    room_id: uuid.UUID
    mode: RecordingModeName
    status: RecordingStatusName
    options: RecordingOptionsBody
    created_at: datetime | None
    saved_at: datetime | None
    expires_at: datetime | None
    media_url: str | None

    @classmethod
    def of(cls, recording: Recording) -> RecordingOut:
        return cls(
            id=recording.id,
            room_id=recording.room_id,
            mode=recording.mode.value,
            status=recording.status.value,
            options=RecordingOptionsBody(language=recording.options.language),
            created_at=recording.created_at,
            saved_at=recording.saved_at,
            expires_at=recording.expires_at,
            media_url=recording.media_path if recording.saved_at else None,
        )


class RecordingPageOut(msgspec.Struct):
    count: int
    limit: int
    offset: int
    results: list[RecordingOut]


# The MinIO (S3-compatible) bucket notification; only what is read, anything else is allowed.
class _Bucket(msgspec.Struct):
    name: str = ""


class _Object(msgspec.Struct):
    key: str = ""
    content_type: str = msgspec.field(default="", name="contentType")


class _Entity(msgspec.Struct):
    bucket: _Bucket = msgspec.field(default_factory=_Bucket)
    object: _Object = msgspec.field(default_factory=_Object)


class _Record(msgspec.Struct):
    event_name: str = msgspec.field(default="", name="eventName")
    s3: _Entity = msgspec.field(default_factory=_Entity)


class BucketNotification(msgspec.Struct):
    records: list[_Record] = msgspec.field(default_factory=list, name="Records")

    def objects(self) -> list[StoredObject]:
        # Keys arrive URL-encoded ("recordings%2F<id>.mp4").
        return [
            StoredObject(
                bucket=r.s3.bucket.name,
                key=unquote_plus(r.s3.object.key),
                content_type=r.s3.object.content_type,
                event_name=r.event_name,
            )
            for r in self.records
        ]


class StorageHookOut(msgspec.Struct):
    status: str
    saved: list[uuid.UUID]


class RoomRecordingController(Controller):
    path = "/rooms/{id_or_slug:str}/recordings"
    tags = ["recordings"]

    @post("/", summary="Start recording the live room (owners and administrators)")
    async def start(
        self,
        id_or_slug: str,
        data: JSONBody[RecordingStart],
        viewer: FromDishka[Viewer],
        start: FromDishka[StartRecording],
    ) -> RecordingOut:
        options = RecordingOptions(language=data.options.language) if data.options else None
        return RecordingOut.of(
            await start.execute(StartRecordingRequest(viewer, RoomRef(id_or_slug), RecordingMode(data.mode), options))
        )

    @post("/stop", status_code=200, summary="Stop the room's recording in progress (owners and administrators)")
    async def stop(self, id_or_slug: str, viewer: FromDishka[Viewer], stop: FromDishka[StopRecording]) -> RecordingOut:
        return RecordingOut.of(await stop.execute(StopRecordingRequest(viewer, RoomRef(id_or_slug))))


class RecordingController(Controller):
    path = "/recordings"
    tags = ["recordings"]

    @get("/", summary="Recordings of the rooms the caller owns or administers")
    async def list_recordings(
        self,
        viewer: FromDishka[Viewer],
        list_mine: FromDishka[ListRecordings],
        limit: Annotated[int, Parameter(ge=1, le=100)] = 20,
        offset: Annotated[int, Parameter(ge=0, le=MAX_OFFSET)] = 0,
    ) -> RecordingPageOut:
        page = await list_mine.execute(ListRecordingsRequest(viewer, limit=limit, offset=offset))
        return RecordingPageOut(
            count=page.total, limit=limit, offset=offset, results=[RecordingOut.of(r) for r in page.items]
        )

    @get(
        "/media-auth",
        summary="nginx auth_request target: 200 with the storage headers when the caller may download",
    )
    async def media_auth(
        self, request: Request[Any, Any, Any], viewer: FromDishka[Viewer], authorize: FromDishka[AuthorizeMediaDownload]
    ) -> Response[bytes]:
        headers = await authorize.execute(MediaDownloadRequest(viewer, request.headers.get("x-original-url")))
        return Response(b"", status_code=200, headers={**headers, "Cache-Control": "no-store"})

    @post("/storage-hook", status_code=200, summary="Bucket notification from the storage (bearer token)")
    async def storage_hook(
        self, request: Request[Any, Any, Any], receive: FromDishka[ReceiveStorageNotification]
    ) -> StorageHookOut:
        try:
            objects: list[StoredObject] | None = msgspec.json.decode(
                await request.body(), type=BucketNotification
            ).objects()
            problem = ""
        except msgspec.DecodeError as error:
            objects, problem = None, str(error)
        # The use case checks the token first: a caller without it learns nothing of what it sent.
        saved = await receive.execute(StorageNotification(bearer_token(request), objects, problem))
        return StorageHookOut(status="ok", saved=[recording.id for recording in saved])

    @get("/{recording_id:uuid}", summary="One recording (owners and administrators of its room)")
    async def get_recording(
        self, recording_id: uuid.UUID, viewer: FromDishka[Viewer], get_one: FromDishka[GetRecording]
    ) -> RecordingOut:
        return RecordingOut.of(await get_one.execute(RecordingRequest(viewer, recording_id)))

    @delete("/{recording_id:uuid}", summary="Delete a finished recording and its file")
    async def delete_recording(
        self, recording_id: uuid.UUID, viewer: FromDishka[Viewer], remove: FromDishka[DeleteRecording]
    ) -> None:
        await remove.execute(RecordingRequest(viewer, recording_id))
