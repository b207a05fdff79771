"""Server-Sent Events responses whose body is sent once every layer of the app has unwound, and
whose keep-alives come from one task per process.

A lobby stream is mostly idle for minutes, and a town hall holds thousands. Were its body sent from
inside the handler, every stream would keep the whole request alive while it waits (each middleware's
frame, the parsed request, its state and its dependency container) and every message would pass
every middleware's send wrapper. So the response sends its start through every layer (status,
cookies, security headers, request id) and hands its body to ``StreamHandoff``, the outermost layer;
the handler, the router, the middleware and the request's observation then return as for any
answer, and the handoff sends the body from the request's own task, straight to the server. Only the
body's iterator, the ASGI ``send``/``receive`` and one bare task waiting for the client's disconnect
stay alive per stream (Litestar's ``Stream`` would use an anyio task group of two).

Keep-alives (an SSE comment, so that proxies do not close a quiet stream) are written by
``KeepAlives``, one task that wakes every fifth of the period and writes to the streams that have
been quiet that long: a stream's task sleeps until its own next message, with no timer of its own,
and nothing in the domain wakes up for the transport's sake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from litestar.enums import ScopeType
from litestar.response import Stream
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
_HANDED_OFF = "meet.stream_body"  # scope key: the body of a started stream, for StreamHandoff to send


KEEPALIVE = b": keep-alive\n\n"  # a comment: keeps proxies from closing the stream, fires no event
_YIELD_EVERY = 64  # keep-alives written before the loop serves others again


class _Beat:
    """One open stream, as the keep-alives see it: when it last wrote, and whether it is writing now."""

    __slots__ = ("keepalives", "last", "send", "sending")

    def __init__(self, keepalives: KeepAlives, send: Send, now: float) -> None:
        self.keepalives = keepalives
        self.send = send
        self.last = now
        self.sending = False

    def close(self) -> None:
        """No keep-alive from now on: the stream's end is being sent."""
        self.keepalives.closed(self)

    async def write(self, message: Message) -> None:
        self.sending = True
        try:
            await self.send(message)
        finally:
            self.sending = False
            self.last = asyncio.get_running_loop().time()


class KeepAlives:
    """Writes ``KEEPALIVE`` to every open stream that has been quiet for ``period`` seconds.

    No stream is ever quiet longer than ``period``: the task wakes every fifth of it (at most every
    second) and writes to those quiet for ``period`` minus that tick. 10,000 idle streams cost one pass
    over them per tick and one write each per period, and no task of theirs wakes up.
    """

    def __init__(self, period: float) -> None:
        self._period = period
        self._tick = min(1.0, period / 5)
        self._open: dict[_Beat, None] = {}  # an ordered set: the oldest streams first
        self._task: asyncio.Task[None] | None = None

    def opened(self, send: Send) -> _Beat:
        loop = asyncio.get_running_loop()
        beat = _Beat(self, send, loop.time())
        self._open[beat] = None
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())
        return beat

    def closed(self, beat: _Beat) -> None:
        self._open.pop(beat, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._open:
            await asyncio.sleep(self._tick)
            quiet_since = loop.time() - (self._period - self._tick)
            written = 0
            for beat in list(self._open):
                if beat.sending or beat.last > quiet_since or beat not in self._open:
                    continue
                try:
                    await beat.write(_body_message(KEEPALIVE))
                except Exception:  # the stream ended meanwhile; its own task says so
                    self.closed(beat)
                written += 1
                if written % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)


class StreamHandoff:
    """Sends the body of a stream handed off by the app beneath, after the app has returned.

    The outermost layer of the app: the send it is given is the server's own.
    """

    __slots__ = ("_app", "_keepalives")

    def __init__(self, app: ASGIApp, keepalives: KeepAlives) -> None:
        self._app = app
        self._keepalives = keepalives

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        try:
            await self._app(scope, receive, send)
        except BaseException:
            # The answer failed after its stream started: the body will not be sent, so close it now
            # (it holds the participant's place in the fan-out and the presence).
            unsent: AsyncGenerator[bytes, None] | None = scope.pop(_HANDED_OFF, None)  # type: ignore[misc]
            if unsent is not None:
                await unsent.aclose()
            raise
        body: AsyncGenerator[bytes, None] | None = scope.pop(_HANDED_OFF, None)  # type: ignore[misc]
        if body is None:
            return
        # What the layers beneath kept in the scope for the request (its parsed state, its dependency
        # container, its session) served its answer's start; the stream needs none of it.
        scope["state"] = {}
        scope.pop("session", None)  # type: ignore[misc]
        await _send_body(body, self._keepalives.opened(send), receive)


class _Disconnect:
    """Waits for the client to leave and then cancels the stream's task (not when the stream ended)."""

    __slots__ = ("done", "left", "task")

    def __init__(self, task: asyncio.Task[Any]) -> None:
        self.done = False
        self.left = False
        self.task = task

    async def watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if not self.done:
            self.left = True
            self.task.cancel()


async def _send_body(body: AsyncGenerator[bytes, None], beat: _Beat, receive: Receive) -> None:
    current = asyncio.current_task()
    assert current is not None  # a coroutine's body always runs in a task
    disconnect = _Disconnect(current)
    watcher = asyncio.get_running_loop().create_task(disconnect.watch(receive))
    ended = False
    try:
        async for chunk in body:
            if ended:
                raise RuntimeError("a stream yielded after its last chunk")
            # Built in the call, not kept in a local: an idle stream holds no message it sent.
            if isinstance(chunk, LastChunk):
                beat.close()
                await beat.write(_last_message(chunk))
                ended = True  # the iterator still runs to its end: its clean-up is part of the stream
            else:
                await beat.write(_body_message(chunk))
        if not ended:
            beat.close()
            await beat.write(_last_message())
    except asyncio.CancelledError:
        if not disconnect.left:
            raise
        current.uncancel()  # the client left: the stream ends, the request does not fail
    finally:
        beat.close()
        disconnect.done = True
        watcher.cancel()


class _HandedOffStreamingResponse(ASGIStreamingResponse):
    __slots__ = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: ARG002 - ASGI's
        await self.start_response(send=send)
        if self.is_head_response:
            await send(_last_message())
        else:
            scope[_HANDED_OFF] = self.iterator  # type: ignore[literal-required]
        await self.after_response()


def _body_message(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


def _last_message(chunk: bytes = b"") -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": False}


class LastChunk(bytes):
    """A stream's last message: it goes out with the end of the response, in one write.

    A town hall's admit-all ends thousands of streams at once; half the writes are saved.
    """

    __slots__ = ()


class EventStream(Stream):
    """The body must be bytes (the SSE encoding is the caller's); see the module for how it is sent."""

    def __init__(self, messages: AsyncGenerator[bytes, None]) -> None:
        super().__init__(messages, media_type="text/event-stream", headers=SSE_HEADERS)

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().to_asgi_response(*args, **kwargs)
        response.__class__ = _HandedOffStreamingResponse
        return response
