"""The lobby over HTTP: knock/poll and a push stream for participants, list/decide/stream for admins."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, Parameter

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.lobby.controls import DenyEveryone, DenyEveryoneRequest, SpeakToWaiting, SpeakToWaitingRequest
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import LobbyEntry, LobbyMessage
from meet.domain.lobby.use_cases import (
    AdmitEveryone,
    AdmitEveryoneRequest,
    DecideEntry,
    DecideEntryRequest,
    EntryView,
    ListWaiting,
    ListWaitingRequest,
    RequestEntry,
    RequestEntryRequest,
    StreamUpdate,
    WaitForDecision,
    WaitForDecisionRequest,
    WaitingListUpdate,
    WatchWaiting,
    WatchWaitingRequest,
)
from meet.domain.rooms.model import RoomRef
from meet.domain.users.model import Viewer
from meet.entrypoints.http.event_stream import EventStream, LastChunk
from meet.entrypoints.http.paths import API_PREFIX
from meet.entrypoints.http.schemas import DisplayName, LiveKitConnection, SfuConnection, StrictBool
from meet.entrypoints.settings import Settings

CREDENTIAL_HEADER = "x-lobby-credential"
CREDENTIAL_COOKIE_PREFIX = "meet_lobby_"
COOKIE_MAX_AGE = 86400


# A denial's reason and a message to those waiting: short text, cleaned like a display name by the domain.
DenialReason = Annotated[str, msgspec.Meta(max_length=200)]
MessageText = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class EntryRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: DisplayName | None = None


class LobbyMessageOut(msgspec.Struct):
    text: str
    sent_at: datetime

    @classmethod
    def of(cls, message: LobbyMessage | None) -> LobbyMessageOut | None:
        return cls(text=message.text, sent_at=message.sent_at) if message is not None else None


class LobbyParticipantOut(msgspec.Struct):
    id: str
    username: str
    color: str
    status: str
    livekit: LiveKitConnection | None
    credential: str
    connection: SfuConnection | None = None
    reason: str | None = None  # a denial's, as the admin gave it
    message: LobbyMessageOut | None = None  # the latest message to those waiting, while waiting

    @classmethod
    def of(cls, view: EntryView) -> LobbyParticipantOut:
        return cls(
            id=view.participant_id,
            username=view.username,
            color=view.color,
            status=view.shown_status,
            livekit=LiveKitConnection.of(view.connection),
            credential=view.credential,
            connection=SfuConnection.of(view.connection),
            reason=view.reason,
            message=LobbyMessageOut.of(view.message),
        )


class WaitingParticipantOut(msgspec.Struct):
    id: str
    username: str
    color: str
    status: str
    requested_at: datetime
    decided_at: datetime | None = None

    @classmethod
    def of(cls, entry: LobbyEntry) -> WaitingParticipantOut:
        return cls(
            id=entry.participant_id,
            username=entry.username,
            color=entry.color,
            status=entry.status.value,
            requested_at=entry.requested_at,
            decided_at=entry.decided_at,
        )


class WaitingListOut(msgspec.Struct):
    participants: list[WaitingParticipantOut]
    count: int
    next: str | None


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    allow: StrictBool
    reason: DenialReason | None = None  # with a denial only


class AdmittedOut(msgspec.Struct):
    admitted: int


class DenyAllBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: DenialReason | None = None


class DeniedOut(msgspec.Struct):
    denied: int


class MessageBody(msgspec.Struct, forbid_unknown_fields=True):
    text: MessageText
    participant_id: str | None = None  # one person waiting; absent: everyone waiting


class MessageSentOut(msgspec.Struct):
    text: str
    sent_at: datetime
    participant_id: str | None


def offered_credentials(request: Request[Any, Any, Any]) -> list[str]:
    """The header first (cookieless clients), then every lobby cookie; the use case keeps the valid one."""
    header = request.headers.get(CREDENTIAL_HEADER)
    cookies = [value for name, value in request.cookies.items() if name.startswith(CREDENTIAL_COOKIE_PREFIX)]
    return [header, *cookies] if header else cookies


def credential_cookie(view: EntryView, settings: Settings) -> dict[str, str]:
    """The credential's ``Set-Cookie`` header, as Litestar's ``Cookie`` would write it, written directly:
    its serialization (``dataclasses.asdict``, then ``SimpleCookie``) was 6% of a knock's CPU. Both the
    room (a slug or a UUID) and the credential (a UUID, a dot, base64url) need no quoting."""
    secure = "; Secure" if settings.cookie_secure else ""
    return {
        "Set-Cookie": f"{CREDENTIAL_COOKIE_PREFIX}{view.room}={view.credential}; HttpOnly; Max-Age={COOKIE_MAX_AGE}; "
        f"Path={API_PREFIX}/rooms; SameSite=lax{secure}"
    }


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


RETRY_MS = 3000  # how long a browser's EventSource waits before it reconnects


def _sse(event: str, data: Any, *, event_id: str | None = None, retry: int | None = None) -> bytes:
    head = (f"retry: {retry}\n" if retry is not None else "") + (f"id: {event_id}\n" if event_id else "")
    return f"{head}event: {event}\ndata: {_json(data)}\n\n".encode()


def _unavailable() -> bytes:
    body = {
        "status": 503,
        "error": LobbyUnavailable.code,
        "detail": LobbyUnavailable.default_message,
        "fields": None,
    }
    return _sse("error", body, retry=RETRY_MS)


async def _participant_messages(
    updates: AsyncIterator[StreamUpdate], metrics: PrometheusMetrics
) -> AsyncGenerator[bytes, None]:
    """``retry:`` first; each status carries ``id:`` (the status), so a reconnect says what it saw last
    (``Last-Event-ID``) and gets the current state at once anyway."""
    retry: int | None = RETRY_MS
    async with metrics.participant_stream() as no_longer_waiting:
        async for update in updates:
            last = update.ends_stream
            if last:
                no_longer_waiting()
            if update.kind == "unavailable":
                message = _unavailable()
            elif update.message is not None:
                message = _sse("message", LobbyMessageOut.of(update.message))
            elif update.entry is not None:
                view = update.entry
                message = _sse("status", LobbyParticipantOut.of(view), event_id=view.status.value, retry=retry)
                retry = None
            elif update.kind == "ended":
                message = _sse("ended", {"status": "ended"}, event_id="ended")
            else:
                message = _sse("gone", {"status": "gone"}, event_id="gone")
            yield LastChunk(message) if last else message


async def _admin_messages(
    updates: AsyncIterator[WaitingListUpdate], metrics: PrometheusMetrics
) -> AsyncGenerator[bytes, None]:
    async with metrics.admin_stream():
        async for chunk in _admin_chunks(updates):
            yield chunk


async def _admin_chunks(updates: AsyncIterator[WaitingListUpdate]) -> AsyncIterator[bytes]:
    sent = 0
    async for update in updates:
        if update.kind == "listening":
            yield f"retry: {RETRY_MS}\n: listening\n\n".encode()
        elif update.kind == "waiting":
            yield _sse("waiting", {"count": update.waiting}, event_id=str(sent))
        elif update.kind == "unavailable":
            yield _unavailable()
        else:
            chunk = []
            for change in update.changes:
                sent += 1
                body = {
                    "participant_id": change.participant_id,
                    "participant": WaitingParticipantOut.of(change.entry) if change.entry else None,
                }
                chunk.append(_sse(change.type.value, body, event_id=str(sent)))
            yield b"".join(chunk)  # one write for the whole batch


class LobbyController(Controller):
    path = "/rooms/{id_or_slug:str}"
    tags = ["lobby"]

    @post(
        "/request-entry",
        status_code=200,
        summary="Knock (first call) or poll (with the credential)",
    )
    async def request_entry(
        self,
        id_or_slug: str,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        settings: FromDishka[Settings],
        request_entry: FromDishka[RequestEntry],
        data: JSONBody[EntryRequest | None] = None,
    ) -> Response[LobbyParticipantOut]:
        view = await request_entry.execute(
            RequestEntryRequest(
                viewer,
                RoomRef(id_or_slug),
                username=data.username if data else None,
                credentials=offered_credentials(request),
                client_address=request.client.host if request.client else None,
            )
        )
        return Response(LobbyParticipantOut.of(view), headers=credential_cookie(view, settings))

    @get(
        "/request-entry/events",
        summary="Server-Sent Events: the decision, pushed as soon as it is taken",
    )
    async def entry_events(
        self,
        id_or_slug: str,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        wait: FromDishka[WaitForDecision],
        metrics: FromDishka[PrometheusMetrics],
    ) -> EventStream:
        updates = await wait.execute(
            WaitForDecisionRequest(viewer, RoomRef(id_or_slug), credentials=offered_credentials(request))
        )
        return EventStream(_participant_messages(updates, metrics))

    @get(
        "/waiting-participants",
        summary="The waiting list in arrival order (owners and administrators)",
    )
    async def waiting_participants(
        self,
        id_or_slug: str,
        viewer: FromDishka[Viewer],
        list_waiting: FromDishka[ListWaiting],
        limit: Annotated[int, Parameter(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Parameter(pattern=r"^[0-9]{1,18}$")] = None,
    ) -> WaitingListOut:
        page = await list_waiting.execute(
            ListWaitingRequest(viewer, RoomRef(id_or_slug), limit=limit, after=int(cursor) if cursor else None)
        )
        return WaitingListOut(
            participants=[WaitingParticipantOut.of(entry) for entry in page.entries],
            count=page.count,
            next=str(page.next_cursor) if page.next_cursor is not None else None,
        )

    @get(
        "/waiting-participants/events",
        summary="Server-Sent Events: changes of the waiting list",
    )
    async def waiting_events(
        self,
        id_or_slug: str,
        viewer: FromDishka[Viewer],
        watch: FromDishka[WatchWaiting],
        metrics: FromDishka[PrometheusMetrics],
    ) -> EventStream:
        changes = await watch.execute(WatchWaitingRequest(viewer, RoomRef(id_or_slug)))
        return EventStream(_admin_messages(changes, metrics))

    @post("/waiting-participants/admit-all", status_code=200, summary="Admit everyone waiting")
    async def admit_all(
        self, id_or_slug: str, viewer: FromDishka[Viewer], admit_everyone: FromDishka[AdmitEveryone]
    ) -> AdmittedOut:
        return AdmittedOut(admitted=await admit_everyone.execute(AdmitEveryoneRequest(viewer, RoomRef(id_or_slug))))

    @post("/waiting-participants/deny-all", status_code=200, summary="Deny everyone waiting (with an optional reason)")
    async def deny_all(
        self,
        id_or_slug: str,
        viewer: FromDishka[Viewer],
        deny_everyone: FromDishka[DenyEveryone],
        data: JSONBody[DenyAllBody | None] = None,
    ) -> DeniedOut:
        request = DenyEveryoneRequest(viewer, RoomRef(id_or_slug), reason=data.reason if data else None)
        return DeniedOut(denied=await deny_everyone.execute(request))

    @post("/waiting-participants/message", status_code=200, summary="Speak to everyone waiting, or to one of them")
    async def message(
        self,
        id_or_slug: str,
        data: JSONBody[MessageBody],
        viewer: FromDishka[Viewer],
        speak: FromDishka[SpeakToWaiting],
    ) -> MessageSentOut:
        request = SpeakToWaitingRequest(viewer, RoomRef(id_or_slug), data.text, participant_id=data.participant_id)
        sent = await speak.execute(request)
        return MessageSentOut(text=sent.text, sent_at=sent.sent_at, participant_id=sent.participant_id)

    @post("/waiting-participants/{participant_id:str}", status_code=200, summary="Admit or deny one participant")
    async def decide(
        self,
        id_or_slug: str,
        participant_id: str,
        data: JSONBody[Decision],
        viewer: FromDishka[Viewer],
        decide: FromDishka[DecideEntry],
    ) -> WaitingParticipantOut:
        decision = DecideEntryRequest(viewer, RoomRef(id_or_slug), participant_id, allow=data.allow, reason=data.reason)
        return WaitingParticipantOut.of(await decide.execute(decision))
