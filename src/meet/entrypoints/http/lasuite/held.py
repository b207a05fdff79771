"""Held polls, answered from outside every layer of the app.

A poll of ``request-entry/`` or ``waiting-participants/`` whose state has not changed is held until
the next change (or ``MEET_LASUITE_POLL_HOLD_SECONDS``), and a town hall holds ten thousand of them.
Were the wait inside the handler, every held poll would keep the whole request alive (each
middleware's frame, the parsed request, its state, its dependency container, the session): about
26 KB each. So the handler checks everything a poll checks and answers as for any poll, except that
it hands its wait to ``HeldPolls`` (the outermost layer) and marks its answer: the layers beneath run
and return as for any request, their start of the answer (status, security headers, request id,
session cookie) is kept aside, and ``HeldPolls`` waits, then sends that start with the answer's
cookies and the body. While it waits, a held poll is the server's connection and task, the scope,
this layer's frame and the wait (one feed in the process's fan-out of lobby events: no task, no
queue of its own).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

_HELD = "meet.held_poll"  # scope key: the wait a handler handed over
_MARK = b"meet-held-poll"  # header of the answer whose start is kept aside (never sent)


class HeldPoll(Protocol):
    """A poll's wait: the body and the ``Set-Cookie`` values of its answer once it ends."""

    async def answer(self) -> tuple[bytes, list[bytes]]: ...

    def fallback(self) -> tuple[bytes, list[bytes]]:
        """What the poll found before it was held: its answer when the wait fails."""
        ...


def hold(request: Request[Any, Any, Any], poll: HeldPoll) -> Response[bytes]:
    """The handler's answer for a poll to hold: ``HeldPolls`` waits and writes the answer itself."""
    request.scope[_HELD] = poll  # type: ignore[literal-required]
    return Response(b"", media_type="application/json", headers={_MARK.decode(): "1", "Cache-Control": "no-store"})


class HeldPolls:
    """The outermost layer: sends the answers of held polls once everything beneath has returned."""

    __slots__ = ("_app", "_prefix")

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith(self._prefix):
            await self._app(scope, receive, send)
            return
        kept = _KeptStart(send, scope)
        try:
            await self._app(scope, receive, kept)
        finally:
            poll: HeldPoll | None = scope.pop(_HELD, None)  # type: ignore[misc]
        if poll is None or kept.start is None:
            return
        start, kept.start = kept.start, None
        # What the layers beneath kept in the scope for the request served its answer's start.
        scope["state"] = {}
        scope.pop("session", None)  # type: ignore[misc]
        try:
            body, cookies = await poll.answer()
        except Exception:
            logger.exception("a held poll failed; answered with what it found before")
            body, cookies = poll.fallback()
        headers = [(name, value) for name, value in start["headers"] if name not in (b"content-length", _MARK)]
        headers += [(b"set-cookie", cookie) for cookie in cookies]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


class _KeptStart:
    """The server's send, except for the answer of a held poll: its start is kept, its empty body dropped."""

    __slots__ = ("_scope", "_send", "start")

    def __init__(self, send: Send, scope: Scope) -> None:
        self._send = send
        self._scope = scope
        self.start: HTTPResponseStartEvent | None = None

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start" and _HELD in self._scope and _MARK in dict(message["headers"]):
            self.start = message
            return
        if self.start is not None and message["type"] == "http.response.body":
            return
        await self._send(message)
