"""Server-side sessions whose id is renewed at sign-in, so a planted cookie cannot be promoted."""

from __future__ import annotations

import copy
import logging
import time
import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Message, Receive, Scope, ScopeSession, Send
from litestar.utils.dataclass import extract_dataclass_items

from meet.adapters.redis.client import RedisUnavailable, is_unreachable
from meet.domain.users.model import User, Viewer
from meet.entrypoints.http.bearer import has_bearer

logger = logging.getLogger("meet.sessions")


SESSION_USER_KEY = "user"
_ROTATE = "meet.rotate_session"
_FRESH_ID = "meet.fresh_session_id"
_LOADED = "meet.session_loaded"
_AS_LOADED = "meet.session_as_loaded"
# When the session (and its cookie) was last stored: an unchanged session is stored again, to slide its
# expiry, only once this much of its lifetime has gone by (a tenth, at most 10 minutes), not on every
# request: a signed-in request then costs one round trip to the store (the read), not two.
RENEWED_AT = "renewed_at"
RENEW_AFTER_SECONDS = 600
_SHORT_TTL = "meet.short_session_ttl"


def viewer_from_session(session: dict[str, Any]) -> Viewer:
    """The signed-in user recorded in the server-side session, or an anonymous viewer."""
    user = session.get(SESSION_USER_KEY) if session else None
    if not isinstance(user, dict):
        return Viewer.anonymous()
    try:
        return Viewer(user_id=uuid.UUID(user["id"]), sub=str(user["sub"]), full_name=user.get("full_name"))
    except (KeyError, TypeError, ValueError):
        return Viewer.anonymous()


def remember_signed_in(request: Request[Any, Any, Any], user: User) -> None:
    """Record the user in a session under a new id: a cookie planted before sign-in is never promoted."""
    request.state[_ROTATE] = True
    request.set_session({SESSION_USER_KEY: {"id": str(user.id), "sub": user.sub, "full_name": user.full_name}})


def remember_sign_in_in_progress(request: Request[Any, Any, Any], data: dict[str, Any], ttl_seconds: int) -> None:
    """Keep a sign-in in progress under an id the server draws, for ``ttl_seconds`` only.

    Never under the id a client's cookie names (a made-up cookie would buy kilobytes for hours), and
    never mixed with a signed-in session: starting to sign in again replaces whatever the browser had.
    """
    request.state[_ROTATE] = True
    request.state[_SHORT_TTL] = ttl_seconds
    request.set_session(data)


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.get("state") or {}
        if not state.get(_ROTATE):
            return super().get_session_id(connection)
        fresh: str | None = state.get(_FRESH_ID)
        if fresh is None:
            fresh = state[_FRESH_ID] = self.generate_session_id()
        return fresh

    async def load_from_connection(self, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, Any]:
        try:
            session = await super().load_from_connection(connection)
        except Exception as error:
            if is_unreachable(error):
                raise RedisUnavailable from error  # the only store that can fail
            raise
        if session:
            state = connection.scope.setdefault("state", {})
            state[_LOADED] = True
            state[_AS_LOADED] = copy.deepcopy(session)  # the handler may change it in place
        return session

    def _renewed_lately(self, scope_session: dict[str, Any], state: dict[str, Any]) -> bool:
        """The session is as it was loaded, and was stored lately enough: nothing to store."""
        if state.get(_ROTATE) or scope_session != state.get(_AS_LOADED):
            return False
        renewed_at = scope_session.get(RENEWED_AT)
        max_age = int(self.config.max_age) if self.config.max_age is not None else RENEW_AFTER_SECONDS * 10
        renew_after = min(RENEW_AFTER_SECONDS, max_age // 10)
        return isinstance(renewed_at, int) and 0 <= time.time() - renewed_at < renew_after

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        state = connection.scope.get("state") or {}
        old_id = connection.cookies.get(self.config.key)
        if isinstance(scope_session, dict) and not scope_session:
            # Nothing to remember: nothing is stored (Litestar would write an empty session, to Redis in
            # production, under whatever id the cookie names). An unknown or expired cookie is cleared.
            if old_id:
                if state.get(_LOADED):
                    await self._forget(old_id, connection)
                self._clear_cookie(message)
            return
        if isinstance(scope_session, dict):
            if self._renewed_lately(scope_session, state):
                return
            scope_session[RENEWED_AT] = int(time.time())
        try:
            if state.get(_ROTATE) and old_id and old_id != "null" and state.get(_LOADED):
                await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
            if (short_ttl := state.get(_SHORT_TTL)) is not None:
                await self._store_short_lived(scope_session, message, connection, int(short_ttl))
            else:
                await super().store_in_message(scope_session, message, connection)
        except Exception as error:
            if not is_unreachable(error):
                raise
            # The response is already on its way (usually a 503 saying the store is down): only the
            # session's renewal is lost, so log it rather than break the response.
            logger.warning("could not save the session: %r", error)

    async def _store_short_lived(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any], ttl: int
    ) -> None:
        session_id = self.get_session_id(connection)  # rotated: always a fresh, server-drawn id
        store = self.config.get_store_from_app(connection.scope["app"])
        await store.set(session_id, self.serialize_data(scope_session, connection.scope), expires_in=ttl)
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        params["max_age"] = ttl
        cookie = Cookie(value=session_id, key=self.config.key, **params)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))

    async def _forget(self, session_id: str, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        try:
            await self.delete(session_id, store=self.config.get_store_from_app(connection.scope["app"]))
        except Exception as error:
            if not is_unreachable(error):
                raise
            logger.warning("could not delete the session: %r", error)

    def _clear_cookie(self, message: Message) -> None:
        params = dict(extract_dataclass_items(self.config, exclude_none=True, include=Cookie.__dict__.keys()))
        cookie = Cookie(value="null", key=self.config.key, expires=0, **params)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


class LazySessionIdMiddleware(SessionMiddleware[RotatingSessionBackend]):
    """Litestar's session middleware, without minting a session id for every request that has no cookie.

    Litestar draws one before the handler runs, from the system's random source; most requests (every
    anonymous join, knock and poll) never store a session, and the backend draws the id itself when
    one is stored (``get_session_id``: the cookie's, the rotated one, or a new one).
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if has_bearer(scope):
            # A bearer request carries no session: none is read, none is written, no cookie is set.
            scope["session"] = {}
            await self.app(scope, receive, send)
            return
        # Not ``ASGIConnection[...](...)``: calling a subscripted generic costs typing's bookkeeping, every request.
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope, receive=receive, send=send)
        scope["session"] = await self.backend.load_from_connection(connection)
        await self.app(scope, receive, self.create_send_wrapper(connection))


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend

    @property
    def middleware(self) -> DefineMiddleware:
        return DefineMiddleware(LazySessionIdMiddleware, backend=self._backend_class(config=self))
