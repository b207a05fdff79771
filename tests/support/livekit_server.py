"""A wire-level LiveKit server double: Twirp over HTTP, bearer tokens verified, every call recorded.

It speaks what the real server speaks on ``POST /twirp/livekit.<Service>/<Method>``: protobuf
(``application/protobuf``, what livekit-api sends) or JSON (``application/json``, what curl and
some SDKs send) bodies, answered in the same encoding, and Twirp JSON errors with their HTTP status.

Each request's ``Authorization: Bearer`` JWT is checked with livekit-api's ``TokenVerifier`` and the
grant livekit-server requires (``pkg/service/auth.go``): ``room_admin`` for the very ``room`` of the
request on participant calls, SendData and UpdateRoomMetadata; ``room_create`` for CreateRoom and
DeleteRoom; ``room_list`` for ListRooms; ``room_record`` for every Egress call. Like the real server,
a missing or insufficient grant is Twirp ``unauthenticated`` (401).

The state follows livekit-server's semantics where our adapters depend on them:
- UpdateParticipant replaces the whole permission when one is given (unset fields become false),
  merges attributes (a key set to "" is deleted), and unpublishes tracks the new permission forbids;
- ListParticipants of an unknown room is an empty list (the real store answers so), while
  GetParticipant/UpdateParticipant/RemoveParticipant/MutePublishedTrack of an unknown room or
  identity, and UpdateRoomMetadata/DeleteRoom/StartRoomCompositeEgress of an unknown room, are
  Twirp ``not_found`` (404);
- a track is only unmuted remotely when ``remote_unmute`` is enabled (off by default, as in LiveKit);
- StopEgress of an unknown egress is ``not_found``, of one that already ended ``failed_precondition``.

Use it through the fixtures in ``tests.support.livekit_fixtures``; run it by hand with
``run_livekit_server()``. Everything it returns to tests is a copy, so assertions never race the
server thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from livekit.api import TokenVerifier, VideoGrants
from livekit.api.access_token import Claims
from livekit.protocol import egress as egress_pb
from livekit.protocol import models
from livekit.protocol import room as room_pb

# Twirp's error codes and the HTTP status each travels with (twitchtv/twirp errors.go).
TWIRP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}

ALL_SOURCES = ("camera", "microphone", "screen_share", "screen_share_audio")
_AUDIO_SOURCES = {models.TrackSource.MICROPHONE, models.TrackSource.SCREEN_SHARE_AUDIO}
_ENDED = {
    egress_pb.EGRESS_COMPLETE,
    egress_pb.EGRESS_FAILED,
    egress_pb.EGRESS_ABORTED,
    egress_pb.EGRESS_LIMIT_REACHED,
}

_REQUESTS: dict[tuple[str, str], type[Message]] = {
    ("RoomService", "CreateRoom"): room_pb.CreateRoomRequest,
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


@dataclass(frozen=True)
class Call:
    """One request as the double saw it: decoded body, the grants of its token, and what it answered."""

    service: str
    method: str
    request: Any  # the decoded protobuf request message
    grants: VideoGrants | None  # None when the token was missing or invalid
    claims: Claims | None
    content_type: str
    status: int
    error_code: str | None  # the Twirp code answered, None on success
    authorized: bool  # the token was valid and carried the grant this method needs


class TwirpFailure(Exception):
    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else TWIRP_STATUS.get(code, 500)


@dataclass
class _Failure:
    status: int
    code: str
    message: str
    times: int


@dataclass
class _Room:
    info: models.Room
    participants: dict[str, models.ParticipantInfo] = field(default_factory=dict)


M = TypeVar("M", bound=Message)


def _copy(message: M) -> M:
    clone = type(message)()
    clone.CopyFrom(message)
    return clone


def _source(name: str | int) -> int:
    return name if isinstance(name, int) else int(models.TrackSource.Value(name.upper()))


def _track(spec: models.TrackInfo | tuple[str, str]) -> models.TrackInfo:
    if isinstance(spec, models.TrackInfo):
        return _copy(spec)
    sid, source_name = spec
    source = _source(source_name)
    kind = models.TrackType.AUDIO if source in _AUDIO_SOURCES else models.TrackType.VIDEO
    return models.TrackInfo(sid=sid, type=kind, source=source, muted=False, name=source_name)  # type: ignore[arg-type]


def _sid(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


class LiveKitServer:
    """The double; ``url`` is what ``MEET_LIVEKIT_URL`` should be set to.

    Construct it, then ``start()``/``stop()`` it (or use ``run_livekit_server()``). The port is
    bound at construction on 127.0.0.1, so ``url`` is known before the server runs.
    """

    def __init__(
        self,
        *,
        api_key: str = "devkey",
        api_secret: str = "secret",
        remote_unmute: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.remote_unmute = remote_unmute
        self._ssl_context = ssl_context
        self._verifier = TokenVerifier(api_key, api_secret)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._rooms: dict[str, _Room] = {}
        self._egresses: dict[str, egress_pb.EgressInfo] = {}
        self._calls: list[Call] = []
        self._failures: dict[str, _Failure] = {}
        self._stalled: set[str] = set()
        self._emptied: set[str] = set()
        self._waiters: list[asyncio.Event] = []
        self._generation = 0  # bumped by reset(): requests still in flight then belong to no test
        self._errors: list[BaseException] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl_context else 'ws'}://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self._ssl_context else 'http'}://127.0.0.1:{self.port}"

    # --- set-up helpers ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget rooms, egresses, calls and pending failures; release stalled requests."""
        with self._lock:
            self._generation += 1
            self._rooms.clear()
            self._egresses.clear()
            self._calls.clear()
            self._failures.clear()
            self._stalled.clear()
            self._emptied.clear()
            self._errors.clear()
        self.release_stalled()

    def add_room(self, name: str, *, metadata: str = "") -> models.Room:
        with self._lock:
            return _copy(self._ensure_room(name, metadata=metadata).info)

    def add_participant(
        self,
        room: str,
        identity: str,
        *,
        name: str = "",
        attributes: dict[str, str] | None = None,
        permission: models.ParticipantPermission | None = None,
        can_publish: bool = True,
        sources: Iterable[str] = ALL_SOURCES,
        tracks: Iterable[models.TrackInfo | tuple[str, str]] = (),
        metadata: str = "",
    ) -> models.ParticipantInfo:
        """A participant connected to ``room`` (created if needed).

        ``permission`` is used as given; without it the participant may subscribe and publish data,
        and publish ``sources`` when ``can_publish``, like a token from our issuer. ``tracks`` are
        ``TrackInfo`` messages or ``(sid, source name)`` pairs, e.g. ``("TR_1", "microphone")``.
        """
        if permission is None:
            permission = models.ParticipantPermission(
                can_subscribe=True,
                can_publish=can_publish,
                can_publish_data=True,
                can_publish_sources=[_source(s) for s in sources],  # type: ignore[misc]
            )
        info = models.ParticipantInfo(
            sid=_sid("PA"),
            identity=identity,
            name=name or identity,
            state=models.ParticipantInfo.State.ACTIVE,
            permission=permission,
            attributes=attributes or {},
            metadata=metadata,
            tracks=[_track(track) for track in tracks],
        )
        with self._lock:
            self._ensure_room(room).participants[identity] = info
            return _copy(info)

    def set_egress_status(self, egress_id: str, status: int) -> egress_pb.EgressInfo:
        """Move an egress along (as the egress service would), e.g. to ``EGRESS_ACTIVE``."""
        with self._lock:
            info = self._egresses[egress_id]
            info.status = status  # type: ignore[assignment]
            return _copy(info)

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        code: str = "internal",
        *,
        message: str = "injected failure",
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` authorised calls of ``method`` with this Twirp error (status from code)."""
        with self._lock:
            self._failures[method] = _Failure(status or TWIRP_STATUS.get(code, 500), code, message, times)

    def answer_empty_next(self, method: str) -> None:
        """Answer the next call of ``method`` with an empty message (every field at its default, e.g. an
        ``EgressInfo`` without ``egress_id``), as a misbehaving or mismatched server might."""
        with self._lock:
            self._emptied.add(method)

    def stall_next(self, method: str) -> None:
        """Hold the next call of ``method`` unanswered until ``reset()`` (to provoke client timeouts)."""
        with self._lock:
            self._stalled.add(method)

    # --- inspection helpers -----------------------------------------------------------------------

    def stalled(self) -> int:
        """How many requests are being held (see ``stall_next``)."""
        with self._lock:
            return len(self._waiters)

    def participants(self, room: str) -> list[models.ParticipantInfo]:
        with self._lock:
            found = self._rooms.get(room)
            return [_copy(p) for p in found.participants.values()] if found else []

    def participant(self, room: str, identity: str) -> models.ParticipantInfo | None:
        with self._lock:
            found = self._rooms.get(room)
            info = found.participants.get(identity) if found else None
            return _copy(info) if info is not None else None

    def room(self, name: str) -> models.Room | None:
        with self._lock:
            found = self._rooms.get(name)
            return _copy(found.info) if found else None

    @property
    def metadata(self) -> dict[str, str]:
        """Each live room's metadata as last set."""
        with self._lock:
            return {name: room.info.metadata for name, room in self._rooms.items()}

    def egress(self, egress_id: str) -> egress_pb.EgressInfo | None:
        with self._lock:
            info = self._egresses.get(egress_id)
            return _copy(info) if info is not None else None

    def calls(self, method: str | None = None) -> list[Call]:
        """Authorised calls (answered or failed), oldest first; ``method`` like ``"UpdateParticipant"``."""
        with self._lock:
            return [c for c in self._calls if c.authorized and method in {None, c.method}]

    def rejected_calls(self, method: str | None = None) -> list[Call]:
        """Calls refused as ``unauthenticated`` (bad token or missing grant)."""
        with self._lock:
            return [c for c in self._calls if not c.authorized and method in {None, c.method}]

    def errors(self) -> list[BaseException]:
        """Exceptions the double raised while answering (a bug in the double, not a Twirp error)."""
        with self._lock:
            return list(self._errors)

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        started = threading.Event()
        loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application()
            app.router.add_post("/twirp/livekit.{service}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
            await web.SockSite(self._runner, self._socket, ssl_context=self._ssl_context).start()
            started.set()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(serve())
            loop.run_forever()
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="livekit-double", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the LiveKit double did not start")

    def stop(self) -> None:
        loop, runner, thread = self._loop, self._runner, self._thread
        if loop is None or runner is None or thread is None:
            self._socket.close()
            return
        self.release_stalled()
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._runner = self._thread = None

    def release_stalled(self) -> None:
        """Let every held request go on (``reset()`` does this too, and forgets everything else)."""
        with self._lock:
            waiters, self._waiters = self._waiters, []
        loop = self._loop
        if loop is not None and not loop.is_closed():
            for waiter in waiters:
                loop.call_soon_threadsafe(waiter.set)

    # --- the Twirp surface ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        service, method = request.match_info["service"], request.match_info["method"]
        content_type = request.content_type
        message: Any = None
        claims: Claims | None = None
        authorized = False
        with self._lock:
            generation = self._generation

        def record(status: int, code: str | None) -> None:
            # A request to no known method has nothing to assert on; one from before the last reset()
            # belongs to an earlier test.
            if message is not None and generation == self._generation:
                grants = claims.video if claims else None
                call = Call(service, method, _copy(message), grants, claims, content_type, status, code, authorized)
                self._calls.append(call)

        try:
            message_class = _REQUESTS.get((service, method))
            if message_class is None:
                raise TwirpFailure("bad_route", f"no handler for path {request.path}")
            if content_type not in {"application/protobuf", "application/json"}:
                raise TwirpFailure("bad_route", f"unexpected Content-Type: {content_type}")
            message = self._decode(message_class, await request.read(), content_type)
            claims = self._authenticate(request)
            self._authorize(service, method, message, claims.video)
            authorized = True
            with self._lock:
                waiter = asyncio.Event() if method in self._stalled else None
                if waiter is not None:
                    self._stalled.discard(method)
                    self._waiters.append(waiter)
            if waiter is not None:
                await waiter.wait()
            with self._lock:
                if generation != self._generation:
                    raise TwirpFailure("unavailable", "the server was reset while this request was in flight")
                failure = self._failures.get(method)
                if failure is not None:
                    failure.times -= 1
                    if failure.times <= 0:
                        del self._failures[method]
                    raise TwirpFailure(failure.code, failure.message, failure.status)
                answer = self._answer(method, message)
                if method in self._emptied:
                    self._emptied.discard(method)
                    answer = type(answer)()
                record(200, None)
        except TwirpFailure as failure:
            with self._lock:
                record(failure.status, failure.code)
            return web.json_response({"code": failure.code, "msg": failure.message}, status=failure.status)
        except Exception as error:  # a bug in the double: answer like a server would, keep it for the test
            with self._lock:
                self._errors.append(error)
                record(500, "internal")
            return web.json_response({"code": "internal", "msg": repr(error)}, status=500)
        if content_type == "application/json":
            body = json_format.MessageToJson(answer, preserving_proto_field_name=True)
            return web.Response(text=body, content_type="application/json")
        return web.Response(body=answer.SerializeToString(), content_type="application/protobuf")

    @staticmethod
    def _decode(message_class: type[Message], body: bytes, content_type: str) -> Message:
        try:
            if content_type == "application/json":
                return json_format.Parse(body.decode() or "{}", message_class(), ignore_unknown_fields=True)
            return message_class.FromString(body)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError) as error:
            raise TwirpFailure("malformed", "the request body could not be decoded") from error

    def _authenticate(self, request: web.Request) -> Claims:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise TwirpFailure("unauthenticated", "invalid authorization header. Must start with Bearer ")
        try:
            return self._verifier.verify(header.removeprefix("Bearer "))
        except Exception as error:
            raise TwirpFailure("unauthenticated", "invalid authorization token") from error

    @staticmethod
    def _authorize(service: str, method: str, message: Any, video: VideoGrants | None) -> None:
        if video is None:
            allowed = False
        elif service == "Egress":
            allowed = bool(video.room_record)
        elif method == "ListRooms":
            allowed = bool(video.room_list)
        elif method in {"CreateRoom", "DeleteRoom"}:
            allowed = bool(video.room_create)
        else:
            allowed = bool(video.room_admin) and video.room == message.room
        if not allowed:
            raise TwirpFailure("unauthenticated", "permissions denied")

    def _ensure_room(self, name: str, *, metadata: str = "") -> _Room:
        room = self._rooms.get(name)
        if room is None:
            info = models.Room(sid=_sid("RM"), name=name, metadata=metadata, empty_timeout=300)
            room = self._rooms[name] = _Room(info)
        return room

    def _room(self, name: str) -> _Room:
        room = self._rooms.get(name)
        if room is None:
            raise TwirpFailure("not_found", "requested room does not exist")
        return room

    def _participant(self, room: str, identity: str) -> models.ParticipantInfo:
        found = self._rooms.get(room)
        participant = found.participants.get(identity) if found else None
        if participant is None:
            raise TwirpFailure("not_found", "participant does not exist")
        return participant

    def _room_info(self, room: _Room) -> models.Room:
        info = _copy(room.info)
        info.num_participants = len(room.participants)
        info.num_publishers = sum(1 for p in room.participants.values() if p.tracks)
        info.active_recording = any(
            e.room_name == info.name and e.status not in _ENDED for e in self._egresses.values()
        )
        return info

    def _answer(self, method: str, message: Any) -> Message:
        if method == "CreateRoom":
            return self._room_info(self._ensure_room(message.name, metadata=message.metadata))
        if method == "ListRooms":
            names = set(message.names)
            rooms = [self._room_info(r) for n, r in self._rooms.items() if not names or n in names]
            return room_pb.ListRoomsResponse(rooms=rooms)
        if method == "DeleteRoom":
            self._room(message.room)
            del self._rooms[message.room]
            return room_pb.DeleteRoomResponse()
        if method == "ListParticipants":
            found = self._rooms.get(message.room)
            return room_pb.ListParticipantsResponse(participants=list(found.participants.values()) if found else [])
        if method == "GetParticipant":
            return self._participant(message.room, message.identity)
        if method == "RemoveParticipant":
            self._participant(message.room, message.identity)
            del self._rooms[message.room].participants[message.identity]
            return room_pb.RemoveParticipantResponse()
        if method == "UpdateParticipant":
            return self._update_participant(message)
        if method == "MutePublishedTrack":
            return self._mute(message)
        if method == "SendData":
            self._room(message.room)
            if message.nonce and len(message.nonce) != 16:
                raise TwirpFailure("invalid_argument", "nonce should be 16-bytes or not present")
            return room_pb.SendDataResponse()
        if method == "UpdateRoomMetadata":
            room = self._room(message.room)
            room.info.metadata = message.metadata
            return self._room_info(room)
        if method == "StartRoomCompositeEgress":
            return self._start_egress(message)
        if method == "StopEgress":
            return self._stop_egress(message)
        return self._list_egress(message)

    def _update_participant(self, message: room_pb.UpdateParticipantRequest) -> models.ParticipantInfo:
        participant = self._participant(message.room, message.identity)
        if message.name:
            participant.name = message.name
        if message.metadata:
            participant.metadata = message.metadata
        if message.HasField("permission"):
            participant.permission.CopyFrom(message.permission)
            allowed = set(message.permission.can_publish_sources)
            kept = [
                t for t in participant.tracks if message.permission.can_publish and (not allowed or t.source in allowed)
            ]
            del participant.tracks[:]
            participant.tracks.extend(kept)
        for key, value in message.attributes.items():
            if value:
                participant.attributes[key] = value
            else:
                participant.attributes.pop(key, None)
        return participant

    def _mute(self, message: room_pb.MuteRoomTrackRequest) -> room_pb.MuteRoomTrackResponse:
        participant = self._participant(message.room, message.identity)
        for track in participant.tracks:
            if track.sid == message.track_sid:
                if not message.muted and not self.remote_unmute:
                    raise TwirpFailure("failed_precondition", "remote unmute not enabled")
                track.muted = message.muted
                return room_pb.MuteRoomTrackResponse(track=track)
        raise TwirpFailure("not_found", "track is not found")

    def _start_egress(self, message: egress_pb.RoomCompositeEgressRequest) -> egress_pb.EgressInfo:
        room = self._room(message.room_name)
        info = egress_pb.EgressInfo(
            egress_id=_sid("EG"),
            room_id=room.info.sid,
            room_name=message.room_name,
            status=egress_pb.EGRESS_STARTING,
            room_composite=message,
        )
        self._egresses[info.egress_id] = info
        return info

    def _stop_egress(self, message: egress_pb.StopEgressRequest) -> egress_pb.EgressInfo:
        info = self._egresses.get(message.egress_id)
        if info is None:
            raise TwirpFailure("not_found", "egress does not exist")
        if info.status not in {egress_pb.EGRESS_STARTING, egress_pb.EGRESS_ACTIVE}:
            status = egress_pb.EgressStatus.Name(info.status)
            raise TwirpFailure("failed_precondition", f"egress with status {status} cannot be stopped")
        info.status = egress_pb.EGRESS_ENDING
        return info

    def _list_egress(self, message: egress_pb.ListEgressRequest) -> egress_pb.ListEgressResponse:
        items = [
            info
            for info in self._egresses.values()
            if (not message.room_name or info.room_name == message.room_name)
            and (not message.egress_id or info.egress_id == message.egress_id)
            and (not message.active or info.status in {egress_pb.EGRESS_STARTING, egress_pb.EGRESS_ACTIVE})
        ]
        return egress_pb.ListEgressResponse(items=items)


@contextlib.contextmanager
def run_livekit_server(**options: Any) -> Iterator[LiveKitServer]:
    """Serve the double on 127.0.0.1 from its own thread and event loop for the ``with`` block."""
    server = LiveKitServer(**options)
    server.start()
    try:
        yield server
    finally:
        server.stop()
