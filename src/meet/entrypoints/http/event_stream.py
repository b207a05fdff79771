"""A Server-Sent Events response that costs one task per open stream and little per message.

Litestar's ``Stream`` sends its body from an anyio task group of two tasks (the body, and a listener for
the client's disconnect). A lobby stream is mostly idle for minutes, and a town hall holds thousands:
here the body is sent from the request's own task, and one bare asyncio task waits for the disconnect
and cancels it.

Only the response start needs the send wrappers of the middleware (status, cookies, security headers,
request id): they all let body messages through untouched. So each later message of a stream (a
keep-alive, a decision) goes to the send that ``RequestObservation``, the outermost middleware, was
given, instead of through every wrapper again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

from litestar.response import Stream
from litestar.response.streaming import ASGIStreamingResponse
from litestar.types import Empty, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
_BODY_SEND = "meet.body_send"  # scope key: the send beneath every middleware's send wrapper


def remember_body_send(scope: Scope, send: Send) -> None:
    """Called by the outermost middleware: the send that a stream's body messages may use."""
    scope[_BODY_SEND] = send  # type: ignore[literal-required]


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


class _OneTaskStreamingResponse(ASGIStreamingResponse):
    __slots__ = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.start_response(send=send)
        # The stream outlives the request's parsing: drop what was sent and the parsed request headers
        # and cookies (caches, parsed again from the scope should anything ask).
        self.headers = None  # type: ignore[assignment]
        state = ScopeState.from_scope(scope)
        state.headers = state.cookies = Empty
        body_send = cast("Send", scope.get(_BODY_SEND, send))
        if self.is_head_response:
            await body_send(_last_message())
        else:
            await self.send_body(body_send, receive)
        await self.after_response()

    async def send_body(self, send: Send, receive: Receive) -> None:
        current = asyncio.current_task()
        assert current is not None  # a coroutine's body always runs in a task
        disconnect = _Disconnect(current)
        watcher = asyncio.get_running_loop().create_task(disconnect.watch(receive))
        try:
            async for chunk in self.iterator:
                # Built in the call, not kept in a local: an idle stream holds no message it sent.
                await send(_body_message(chunk if isinstance(chunk, bytes) else chunk.encode()))
            await send(_last_message())
        except asyncio.CancelledError:
            if not disconnect.left:
                raise
            current.uncancel()  # the client left: the stream ends, the request does not fail
        finally:
            disconnect.done = True
            watcher.cancel()


def _body_message(chunk: bytes) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": True}


def _last_message() -> Message:
    return {"type": "http.response.body", "body": b"", "more_body": False}


class EventStream(Stream):
    def __init__(self, messages: AsyncIterator[bytes]) -> None:
        super().__init__(messages, media_type="text/event-stream", headers=SSE_HEADERS)

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().to_asgi_response(*args, **kwargs)
        response.__class__ = _OneTaskStreamingResponse
        return response
