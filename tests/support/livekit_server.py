"""A wire-level LiveKit server double: Twirp over HTTP, bearer tokens verified, every call recorded.

It speaks the protocol the real server speaks (protobuf bodies on ``/twirp/livekit.<Service>/<Method>``,
Twirp JSON errors), checks each request's JWT with livekit-api's ``TokenVerifier`` and the grant the
real server requires, and keeps just enough room state to answer like LiveKit does, including its
semantics (UpdateParticipant replaces the whole permission; an attribute set to "" is deleted).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from google.protobuf.message import Message
from livekit.api import TokenVerifier
from livekit.protocol import egress as egress_pb
from livekit.protocol import models
from livekit.protocol import room as room_pb

from tests.support.services import free_port


@dataclass
class Call:
    service: str
    method: str
    request: Any
    grants: Any


class TwirpFailure(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


NOT_FOUND = 404

_REQUESTS: dict[tuple[str, str], type[Message]] = {
    ("RoomService", "ListRooms"): room_pb.ListRoomsRequest,
    ("RoomService", "DeleteRoom"): room_pb.DeleteRoomRequest,
    ("RoomService", "ListParticipants"): room_pb.ListParticipantsRequest,
    ("RoomService", "GetParticipant"): room_pb.RoomParticipantIdentity,
    ("RoomService", "RemoveParticipant"): room_pb.RoomParticipantIdentity,
    ("RoomService", "UpdateParticipant"): room_pb.UpdateParticipantRequest,
    ("RoomService", "MutePublishedTrack"): room_pb.MuteRoomTrackRequest,
    ("RoomService", "SendData"): room_pb.SendDataRequest,
    ("RoomService", "UpdateRoomMetadata"): room_pb.UpdateRoomMetadataRequest,
    ("Egress", "StartRoomCompositeEgress"): egress_pb.RoomCompositeEgressRequest,
    ("Egress", "StopEgress"): egress_pb.StopEgressRequest,
    ("Egress", "ListEgress"): egress_pb.ListEgressRequest,
}


@dataclass
class LiveKitServer:
    """The double; ``url`` is what the API's ``MEET_LIVEKIT_URL`` should be."""

    api_key: str = "devkey"
    api_secret: str = "secret"
    port: int = field(default_factory=free_port)
    rooms: dict[str, dict[str, models.ParticipantInfo]] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    egresses: dict[str, egress_pb.EgressInfo] = field(default_factory=dict)
    recorded: list[Call] = field(default_factory=list)
    failures: dict[str, tuple[int, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # --- inspection and set-up helpers used by tests -------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self.rooms.clear()
            self.metadata.clear()
            self.egresses.clear()
            self.recorded.clear()
            self.failures.clear()

    def add_participant(
        self,
        room: str,
        identity: str,
        *,
        name: str = "",
        attributes: dict[str, str] | None = None,
        can_publish: bool = True,
        sources: tuple[str, ...] = ("camera", "microphone", "screen_share", "screen_share_audio"),
        tracks: tuple[tuple[str, str], ...] = (),
    ) -> models.ParticipantInfo:
        """A connected participant; ``tracks`` are (sid, source name) pairs."""
        permission = models.ParticipantPermission(
            can_subscribe=True,
            can_publish=can_publish,
            can_publish_data=True,
            can_publish_sources=[getattr(models.TrackSource, s.upper()) for s in sources],
        )
        info = models.ParticipantInfo(
            sid=f"PA_{uuid.uuid4().hex[:12]}",
            identity=identity,
            name=name or identity,
            state=models.ParticipantInfo.State.ACTIVE,
            permission=permission,
            attributes=attributes or {},
        )
        for sid, source in tracks:
            kind = models.TrackType.AUDIO if source in {"microphone", "screen_share_audio"} else models.TrackType.VIDEO
            info.tracks.append(
                models.TrackInfo(sid=sid, type=kind, source=getattr(models.TrackSource, source.upper()), muted=False)
            )
        with self._lock:
            self.rooms.setdefault(room, {})[identity] = info
        return info

    def participant(self, room: str, identity: str) -> models.ParticipantInfo | None:
        with self._lock:
            return self.rooms.get(room, {}).get(identity)

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.recorded if method is None or c.method == method]

    def fail_next(self, method: str, status: int = 500, code: str = "internal") -> None:
        with self._lock:
            self.failures[method] = (status, code)

    # --- the Twirp surface ----------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        service = request.match_info["service"]
        method = request.match_info["method"]
        try:
            message_class = _REQUESTS.get((service, method))
            if message_class is None:
                raise TwirpFailure(404, "bad_route", f"no handler for {service}/{method}")
            body = await request.read()
            if request.content_type == "application/json":
                from google.protobuf.json_format import Parse  # noqa: PLC0415

                message = Parse(body.decode(), message_class())
            else:
                message = message_class.FromString(body)
            grants = self._authorize(request, service, method, message)
            with self._lock:
                self.recorded.append(Call(service, method, message, grants))
                failure = self.failures.pop(method, None)
                if failure:
                    raise TwirpFailure(failure[0], failure[1], "injected failure")
                answer = self._answer(method, message)
        except TwirpFailure as failure:
            return web.json_response({"code": failure.code, "msg": failure.message}, status=failure.status)
        return web.Response(body=answer.SerializeToString(), content_type="application/protobuf")

    def _authorize(self, request: web.Request, service: str, method: str, message: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Bearer" or not token:
            raise TwirpFailure(401, "unauthenticated", "missing bearer token")
        try:
            claims = TokenVerifier(self.api_key, self.api_secret).verify(token)
        except Exception as error:
            raise TwirpFailure(401, "unauthenticated", f"invalid token: {error}") from error
        video = claims.video
        if video is None:
            raise TwirpFailure(403, "permission_denied", "no video grant")
        if service == "Egress":
            allowed = video.room_record
        elif method == "ListRooms":
            allowed = video.room_list
        elif method == "DeleteRoom":
            allowed = video.room_create
        else:
            allowed = video.room_admin and video.room == message.room
        if not allowed:
            raise TwirpFailure(403, "permission_denied", "insufficient grants")
        return video

    def _room(self, name: str) -> dict[str, models.ParticipantInfo]:
        if name not in self.rooms:
            raise TwirpFailure(NOT_FOUND, "not_found", "requested room does not exist")
        return self.rooms[name]

    def _participant(self, room: str, identity: str) -> models.ParticipantInfo:
        participant = self._room(room).get(identity)
        if participant is None:
            raise TwirpFailure(NOT_FOUND, "not_found", "participant not found")
        return participant

    def _answer(self, method: str, message: Any) -> Message:
        if method == "ListRooms":
            return room_pb.ListRoomsResponse(rooms=[models.Room(name=n) for n in self.rooms])
        if method == "DeleteRoom":
            self.rooms.pop(message.room, None)
            return room_pb.DeleteRoomResponse()
        if method == "ListParticipants":
            return room_pb.ListParticipantsResponse(participants=list(self._room(message.room).values()))
        if method == "GetParticipant":
            return self._participant(message.room, message.identity)
        if method == "RemoveParticipant":
            self._participant(message.room, message.identity)
            del self.rooms[message.room][message.identity]
            return room_pb.RemoveParticipantResponse()
        if method == "UpdateParticipant":
            return self._update_participant(message)
        if method == "MutePublishedTrack":
            participant = self._participant(message.room, message.identity)
            for track in participant.tracks:
                if track.sid == message.track_sid:
                    track.muted = message.muted
                    return room_pb.MuteRoomTrackResponse(track=track)
            raise TwirpFailure(NOT_FOUND, "not_found", "track not found")
        if method == "SendData":
            self._room(message.room)
            return room_pb.SendDataResponse()
        if method == "UpdateRoomMetadata":
            self._room(message.room)
            self.metadata[message.room] = message.metadata
            return models.Room(name=message.room, metadata=message.metadata)
        if method == "StartRoomCompositeEgress":
            info = egress_pb.EgressInfo(
                egress_id=f"EG_{uuid.uuid4().hex[:12]}", room_name=message.room_name, status=egress_pb.EGRESS_STARTING
            )
            self.egresses[info.egress_id] = info
            return info
        if method == "StopEgress":
            info = self.egresses.get(message.egress_id)
            if info is None:
                raise TwirpFailure(NOT_FOUND, "not_found", "egress not found")
            info.status = egress_pb.EGRESS_ENDING
            return info
        return egress_pb.ListEgressResponse(items=list(self.egresses.values()))

    def _update_participant(self, message: room_pb.UpdateParticipantRequest) -> models.ParticipantInfo:
        participant = self._participant(message.room, message.identity)
        if message.name:
            participant.name = message.name
        if message.metadata:
            participant.metadata = message.metadata
        if message.HasField("permission"):
            participant.permission.CopyFrom(message.permission)  # the whole object: unset fields become false
        for key, value in message.attributes.items():
            if value:
                participant.attributes[key] = value
            elif key in participant.attributes:
                del participant.attributes[key]
        return participant


@contextlib.contextmanager
def run_livekit_server(**options: Any) -> Iterator[LiveKitServer]:
    """Serve the double on 127.0.0.1 from a thread with its own event loop."""
    server = LiveKitServer(**options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner_box: list[web.AppRunner] = []

    async def start() -> None:
        app = web.Application()
        app.router.add_post("/twirp/livekit.{service}/{method}", server.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", server.port).start()
        runner_box.append(runner)
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, name="livekit-double", daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the LiveKit double did not start")
    try:
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(runner_box[0].cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
