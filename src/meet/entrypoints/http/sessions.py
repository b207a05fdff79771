"""Server-side sessions whose id is renewed at sign-in, so a planted cookie cannot be promoted."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.types import Message, ScopeSession

from meet.adapters.redis.client import UNREACHABLE
from meet.domain.users.model import User, Viewer

logger = logging.getLogger("meet.sessions")

SESSION_USER_KEY = "user"
_ROTATE = "meet.rotate_session"
_FRESH_ID = "meet.fresh_session_id"


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


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.get("state") or {}
        if not state.get(_ROTATE):
            return super().get_session_id(connection)
        fresh: str | None = state.get(_FRESH_ID)
        if fresh is None:
            fresh = state[_FRESH_ID] = self.generate_session_id()
        return fresh

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        state = connection.scope.get("state") or {}
        old_id = connection.cookies.get(self.config.key)
        if isinstance(scope_session, dict) and not scope_session and not old_id:
            # An anonymous caller with nothing to remember: no session is stored and no cookie is set
            # (Litestar would otherwise write an empty session, to Redis in production, on every request).
            return
        try:
            if state.get(_ROTATE) and old_id and old_id != "null":
                await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
            await super().store_in_message(scope_session, message, connection)
        except UNREACHABLE as error:
            # The response is already on its way (usually a 503 saying the store is down): only the
            # session's renewal is lost, so log it rather than break the response.
            logger.warning("could not save the session: %r", error)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
