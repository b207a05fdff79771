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
from meet.domain.lobby.read_whole_list import ReadWholeList, ReadWholeListRequest
from meet.domain.lobby.use_cases import (
    AwaitChange,
    AwaitChangeRequest,
    DecideEntry,
    DecideEntryRequest,
    EntryView,
    RequestEntry,
    RequestEntryRequest,
    WatchWaiting,
    WatchWaitingRequest,
)
from meet.domain.rooms.model import RoomRef
from meet.domain.users.model import Viewer
from meet.entrypoints.http.lasuite.held import hold
from meet.entrypoints.http.lasuite.schemas import Message
from meet.entrypoints.http.lobby import COOKIE_MAX_AGE, CREDENTIAL_COOKIE_PREFIX, CREDENTIAL_HEADER
from meet.entrypoints.http.schemas import DisplayName, LiveKitConnection
from meet.entrypoints.settings import Settings

MARK_COOKIE_PREFIX = "meet_poll_"
MARK_PATH = "/api/v1.0/rooms"
# A caller whose last answer is older than this is not polling (a reloaded page, a new tab): answered at once.
MARK_FRESH_SECONDS = 5.0
MAX_OFFERED = 16  # credentials read from one request, at most

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


def _set_cookie(cookie: Cookie) -> bytes:
    return cookie.to_encoded_header()[1]


class HeldEntryPoll:
    """A waiting participant's poll, held until their state changes (``AwaitChange``)."""

    __slots__ = ("_await", "_mark", "_metrics", "_settings", "_wait")

    def __init__(
        self,
        await_change: AwaitChange,
        wait: AwaitChangeRequest,
        mark: PollMark,
        settings: Settings,
        metrics: PrometheusMetrics,
    ) -> None:
        self._await = await_change
        self._wait = wait
        self._mark = mark
        self._settings = settings
        self._metrics = metrics

    async def answer(self) -> tuple[bytes, list[bytes]]:
        with self._metrics.held_poll("participant"):
            view = await self._await.execute(self._wait) or self._wait.seen
        return self._answer(view)

    def fallback(self) -> tuple[bytes, list[bytes]]:
        return self._answer(self._wait.seen)

    def _answer(self, view: EntryView) -> tuple[bytes, list[bytes]]:
        cookies = [credential_cookie(view, self._settings), self._mark.cookie(view.status.value)]
        return msgspec.json.encode(EntryOut.of(view)), [_set_cookie(cookie) for cookie in cookies]


class EncodedLists:
    """This process's last answer per room (as the caller named it), encoded, with the list's version.

    An answer is a function of the list alone, and the version is a digest of the list that the store
    computes in the same step as it checks it: a list read at the version of a kept answer is that
    answer, byte for byte. Most polls find the list unchanged: they cost one short store step and no
    work per entry. Bounded: the rooms least recently asked for are forgotten first.
    """

    __slots__ = ("_answers", "_capacity")

    def __init__(self, capacity: int = 1024) -> None:
        self._answers: dict[str, tuple[str, bytes]] = {}
        self._capacity = capacity

    def known(self, room: str) -> str | None:
        kept = self._answers.get(room)
        return kept[0] if kept else None

    def answer(self, room: str, version: str) -> bytes | None:
        kept = self._answers.get(room)
        return kept[1] if kept is not None and kept[0] == version else None

    def keep(self, room: str, version: str, entries: tuple[LobbyEntry, ...]) -> bytes:
        body = msgspec.json.encode(WaitingListOut(participants=[WaitingOut.of(entry) for entry in entries]))
        self._answers.pop(room, None)
        self._answers[room] = (version, body)
        if len(self._answers) > self._capacity:
            del self._answers[next(iter(self._answers))]
        return body


ENCODED_LISTS = EncodedLists()


class WaitingList:
    """A room's whole waiting list as an admin reads it: its answer's body and its version."""

    __slots__ = ("_read", "_room", "_viewer")

    def __init__(self, read: ReadWholeList, viewer: Viewer, room_key: str) -> None:
        self._read = read
        self._viewer = viewer
        self._room = room_key

    async def read(self) -> tuple[bytes, str]:
        known = ENCODED_LISTS.known(self._room)
        found = await self._read.execute(ReadWholeListRequest(self._viewer, RoomRef(self._room), known=known))
        version = found.waiting.version
        if found.waiting.entries is not None:
            return ENCODED_LISTS.keep(self._room, version, found.waiting.entries), version[:16]
        body = ENCODED_LISTS.answer(self._room, version)
        if body is None:  # another poll replaced the kept answer meanwhile: read the entries
            found = await self._read.execute(ReadWholeListRequest(self._viewer, RoomRef(self._room)))
            version, entries = found.waiting.version, found.waiting.entries or ()
            return ENCODED_LISTS.keep(self._room, version, entries), version[:16]
        return body, version[:16]


def _waiting_answer(body: bytes, digest: str, mark: PollMark) -> tuple[bytes, list[bytes]]:
    return body, [_set_cookie(mark.cookie(digest))]


class HeldWaitingPoll:
    """An admin's poll of the waiting list, held until the list differs from what they were last answered."""

    __slots__ = ("_body", "_changes", "_digest", "_mark", "_metrics", "_seconds", "_waiting")

    def __init__(
        self,
        waiting: WaitingList,
        changes: AsyncIterator[Any],
        found: tuple[bytes, str],
        mark: PollMark,
        seconds: float,
        metrics: PrometheusMetrics,
    ) -> None:
        self._waiting = waiting
        self._changes = changes
        self._body, self._digest = found
        self._mark = mark
        self._seconds = seconds
        self._metrics = metrics

    async def answer(self) -> tuple[bytes, list[bytes]]:
        seen = self._digest

        async def changed(update: Any) -> bool:
            if update.kind == "unavailable":
                return True
            if update.kind not in {"listening", "changes"}:
                return False
            self._body, self._digest = await self._waiting.read()  # read once listening: no change is missed
            return self._digest != seen

        with self._metrics.held_poll("admin"):
            await _first(self._changes, changed, self._seconds)
        return self.fallback()

    def fallback(self) -> tuple[bytes, list[bytes]]:
        return _waiting_answer(self._body, self._digest, self._mark)


NO_STORE = {"Cache-Control": "no-store"}


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
    ) -> Response[bytes]:
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
            wait = AwaitChangeRequest(viewer, RoomRef(room_key), view, settings.lasuite_poll_hold_seconds)
            return hold(request, HeldEntryPoll(await_change, wait, mark, settings, metrics))
        return Response(
            msgspec.json.encode(EntryOut.of(view)),
            media_type="application/json",
            cookies=[credential_cookie(view, settings), mark.cookie(view.status.value)],
            headers=NO_STORE,
        )

    @get("/waiting-participants", summary="Who waits (admins); held until the list changes")
    async def waiting_participants(
        self,
        room_key: str,
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        settings: FromDishka[Settings],
        read_whole_list: FromDishka[ReadWholeList],
        watch: FromDishka[WatchWaiting],
        metrics: FromDishka[PrometheusMetrics],
    ) -> Response[bytes]:
        waiting = WaitingList(read_whole_list, viewer, room_key)
        found = await waiting.read()
        mark = PollMark(request, f"w{_short(room_key.lower())}", settings)
        if mark.already_seen(found[1]):
            changes = await watch.execute(WatchWaitingRequest(viewer, RoomRef(room_key)))
            seconds = settings.lasuite_poll_hold_seconds
            return hold(request, HeldWaitingPoll(waiting, changes, found, mark, seconds, metrics))
        body, cookies = _waiting_answer(*found, mark)
        return Response(body, media_type="application/json", headers={**NO_STORE, "Set-Cookie": cookies[0].decode()})

    @post("/enter", status_code=200, summary="Admit or deny a waiting participant (admins)")
    async def enter(
        self, room_key: str, data: JSONBody[EntryDecision], viewer: FromDishka[Viewer], decide: FromDishka[DecideEntry]
    ) -> Message:
        await decide.execute(DecideEntryRequest(viewer, RoomRef(room_key), data.participant_id, allow=data.allow_entry))
        return Message(message="Participant was updated.")
