"""Hooks on the start of every response (headers), as one ASGI layer.

Litestar's ``before_send`` hooks would run on every message a response sends, and a lobby stream sends
thousands of keep-alives: here they see the start only, and a stream's body does not pass this layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

StartHook = Callable[[Message, Scope], Awaitable[None]]


class ResponseStartHooks:
    __slots__ = ("_app", "_hooks")

    def __init__(self, app: ASGIApp, hooks: Sequence[StartHook]) -> None:
        self._app = app
        self._hooks = tuple(hooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        await self._app(scope, receive, _HookedSend(send, scope, self._hooks))


class _HookedSend:
    __slots__ = ("_hooks", "_scope", "_send")

    def __init__(self, send: Send, scope: Scope, hooks: tuple[StartHook, ...]) -> None:
        self._send = send
        self._scope = scope
        self._hooks = hooks

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            for hook in self._hooks:
                await hook(message, self._scope)
        await self._send(message)
