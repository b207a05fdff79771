"""The lobby as La Suite Meet's frontend drives it: ``request-entry/`` polled by the waiting person,
``waiting-participants/`` polled by admins, ``enter/`` to decide.

The app polls every second but never starts a poll while one is in flight, so a poll is answered at
once when its state changed since the caller's last answer (or when the caller has no recent answer),
and otherwise held until the next change or ``MEET_LASUITE_POLL_HOLD_SECONDS``: push latency from
meet's lobby events (Redis pub/sub across processes), with the app unchanged. What the caller last
saw is a hint kept in a cookie (``meet_poll_*``); it is never a credential: a forged one only makes the
forger's own poll wait or not.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from typing import Annotated, Any, TypeVar

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import JSONBody

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.lobby.model import LobbyEntry, LobbyStatus
from meet.domain.lobby.use_cases import (
    AwaitChange,
    AwaitChangeRequest,
    DecideEntry,
    DecideEntryRequest,
    EntryView,
    ListWaiting,
    ListWaitingRequest,
    RequestEntry,
    RequestEntryRequest,
    WatchWaiting,
    WatchWaitingRequest,
)
from meet.domain.rooms.model import RoomRef
from meet.domain.users.model import Viewer
from meet.entrypoints.http.lasuite.schemas import Message
from meet.entrypoints.http.lobby import COOKIE_MAX_AGE, CREDENTIAL_COOKIE_PREFIX, CREDENTIAL_HEADER
from meet.entrypoints.http.schemas import DisplayName, LiveKitConnection
from meet.entrypoints.settings import Settings

MARK_COOKIE_PREFIX = "meet_poll_"
MARK_PATH = "/api/v1.0/rooms"
# A caller whose last answer is older than this is not polling (a reloaded page, a new tab): answered at once.
MARK_FRESH_SECONDS = 5.0
MAX_OFFERED = 16  # credentials read from one request, at most
PAGE = 200

T = TypeVar("T")


class EntryRequest(msgspec.Struct):
    username: DisplayName | None = None


class EntryOut(msgspec.Struct):
    """``ApiRequestEntry``: ``livekit`` once accepted."""

    id: str
    username: str
    color: str
    status: str
    livekit: LiveKitConnection | None

    @classmethod
    def of(cls, view: EntryView) -> EntryOut:
        return cls(
            id=view.participant_id,
            username=view.username,
            color=view.color,
            status=view.shown_status,
            livekit=LiveKitConnection.of(view.connection),
        )


class WaitingOut(msgspec.Struct):
    id: str
    username: str
    color: str
    status: str

    @classmethod
    def of(cls, entry: LobbyEntry) -> WaitingOut:
        return cls(id=entry.participant_id, username=entry.username, color=entry.color, status=entry.status.value)


class WaitingListOut(msgspec.Struct):
    participants: list[WaitingOut]


class EntryDecision(msgspec.Struct):
    participant_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    allow_entry: bool


def offered_credentials(request: Request[Any, Any, Any]) -> list[str]:
    """The header first, then every lobby cookie, duplicates of one name included (a browser sends one
    per path it holds): the use case keeps the valid one, so a cookie's path never splits a participant."""
    offered = [header] if (header := request.headers.get(CREDENTIAL_HEADER)) else []
    for line in request.headers.getall("cookie", []):
        for pair in line.split(";"):
            name, _, value = pair.strip().partition("=")
            if name.startswith(CREDENTIAL_COOKIE_PREFIX) and value:
                offered.append(value)
    return offered[:MAX_OFFERED]


class PlainCookie(Cookie):
    """A cookie whose name and value need no quoting (a room name, a credential, a digest), written
    directly: Litestar's serialization (``dataclasses.asdict``, then ``SimpleCookie``) is a noticeable
    share of a poll's CPU."""

    def to_encoded_header(self) -> tuple[bytes, bytes]:
        secure = "; Secure" if self.secure else ""
        return b"set-cookie", (
            f"{self.key}={self.value}; HttpOnly; Max-Age={self.max_age}; Path={self.path}; SameSite=lax{secure}"
        ).encode("latin-1")


def credential_cookie(view: EntryView, settings: Settings) -> Cookie:
    """Under ``/api``, so meet's own API and this one find the same participant."""
    return PlainCookie(
        key=f"{CREDENTIAL_COOKIE_PREFIX}{view.room}",
        value=view.credential,
        path="/api",
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


class PollMark:
    """What a caller was last answered (a digest) and when, kept in a cookie of its own per room."""

    def __init__(self, request: Request[Any, Any, Any], name: str, settings: Settings) -> None:
        self._key = f"{MARK_COOKIE_PREFIX}{name}"
        self._settings = settings
        digest, _, stamp = request.cookies.get(self._key, "").partition(".")
        self._digest = digest
        self._stamp = int(stamp) if stamp.isdigit() and len(stamp) < 16 else 0

    def already_seen(self, digest: str) -> bool:
        """The caller is polling, and their last answer already said ``digest``."""
        recent = time.time() * 1000 - self._stamp <= MARK_FRESH_SECONDS * 1000
        return recent and self._digest == digest and self._settings.lasuite_poll_hold_seconds > 0

    def cookie(self, digest: str) -> Cookie:
        return PlainCookie(
            key=self._key,
            value=f"{digest}.{int(time.time() * 1000)}",
            path=MARK_PATH,
            max_age=60,
            httponly=True,
            secure=self._settings.cookie_secure,
            samesite="lax",
        )


async def _first(items: AsyncIterator[T], wanted: Callable[[T], Awaitable[bool]], seconds: float) -> None:
    """Read ``items`` until one is ``wanted`` or ``seconds`` pass; the iterator is closed either way."""
    try:
        async with asyncio.timeout(seconds):
            async for item in items:
                if await wanted(item):
                    return
    except TimeoutError:
        return
    finally:
        close = getattr(items, "aclose", None)
        if close is not None:
            with suppress(Exception):
                await close()


def _short(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=8).hexdigest()


class LaSuiteLobbyController(Controller):
    path = "/rooms/{room_key:str}"
    tags = ["La Suite Meet"]

    @post("/request-entry", status_code=200, summary="Knock, then poll (held until the state changes)")
    async def request_entry(
        self,
        room_key: str,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        settings: FromDishka[Settings],
        request_entry: FromDishka[RequestEntry],
        await_change: FromDishka[AwaitChange],
        metrics: FromDishka[PrometheusMetrics],
        data: JSONBody[EntryRequest | None] = None,
    ) -> Response[EntryOut]:
        view = await request_entry.execute(
            RequestEntryRequest(
                viewer,
                RoomRef(room_key),
                username=data.username if data and data.username else None,
                credentials=offered_credentials(request),
                client_address=request.client.host if request.client else None,
            )
        )
        mark = PollMark(request, f"e{view.room}", settings)
        if view.known and view.status is LobbyStatus.WAITING and mark.already_seen(view.status.value):
            async with metrics.held_poll("participant"):
                hold = AwaitChangeRequest(viewer, RoomRef(room_key), view, settings.lasuite_poll_hold_seconds)
                view = await await_change.execute(hold) or view
        return Response(
            EntryOut.of(view),
            cookies=[credential_cookie(view, settings), mark.cookie(view.status.value)],
            headers={"Cache-Control": "no-store"},
        )

    @get("/waiting-participants", summary="Who waits (admins); held until the list changes")
    async def waiting_participants(
        self,
        room_key: str,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        settings: FromDishka[Settings],
        list_waiting: FromDishka[ListWaiting],
        watch: FromDishka[WatchWaiting],
        metrics: FromDishka[PrometheusMetrics],
    ) -> Response[WaitingListOut]:
        async def everyone() -> list[LobbyEntry]:
            entries: list[LobbyEntry] = []
            after: int | None = None
            while True:
                page = await list_waiting.execute(
                    ListWaitingRequest(viewer, RoomRef(room_key), limit=PAGE, after=after)
                )
                entries.extend(page.entries)
                if page.next_cursor is None or not page.entries:
                    return entries
                after = page.next_cursor

        def digest_of(entries: list[LobbyEntry]) -> str:
            return _short(",".join(f"{entry.participant_id}:{entry.status.value}" for entry in entries))

        entries = await everyone()
        digest = digest_of(entries)
        mark = PollMark(request, f"w{_short(room_key.lower())}", settings)
        if mark.already_seen(digest):
            seen = digest
            changes = await watch.execute(WatchWaitingRequest(viewer, RoomRef(room_key)))

            async def changed(update: Any) -> bool:
                nonlocal entries, digest
                if update.kind == "unavailable":
                    return True
                if update.kind not in {"listening", "changes"}:
                    return False
                entries = await everyone()  # read once listening, so no change is missed
                digest = digest_of(entries)
                return digest != seen

            async with metrics.held_poll("admin"):
                await _first(changes, changed, settings.lasuite_poll_hold_seconds)
        return Response(
            WaitingListOut(participants=[WaitingOut.of(entry) for entry in entries]),
            cookies=[mark.cookie(digest)],
            headers={"Cache-Control": "no-store"},
        )

    @post("/enter", status_code=200, summary="Admit or deny a waiting participant (admins)")
    async def enter(
        self, room_key: str, data: JSONBody[EntryDecision], viewer: FromDishka[Viewer], decide: FromDishka[DecideEntry]
    ) -> Message:
        await decide.execute(DecideEntryRequest(viewer, RoomRef(room_key), data.participant_id, allow=data.allow_entry))
        return Message(message="Participant was updated.")
