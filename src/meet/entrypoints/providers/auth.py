from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
from dishka import Provider, Scope, provide
from litestar import Request

from meet.adapters.oidc.provider import OidcIdentityProvider
from meet.domain.users.model import Viewer
from meet.domain.users.ports import IdentityProvider
from meet.domain.users.use_cases import GetCurrentUser, SignIn
from meet.entrypoints.settings import Settings

SESSION_USER_KEY = "user"


def viewer_from_session(session: dict[str, Any]) -> Viewer:
    """The signed-in user recorded in the server-side session, or an anonymous viewer."""
    user = session.get(SESSION_USER_KEY) if session else None
    if not isinstance(user, dict):
        return Viewer.anonymous()
    try:
        return Viewer(user_id=uuid.UUID(user["id"]), sub=str(user["sub"]), full_name=user.get("full_name"))
    except (KeyError, TypeError, ValueError):
        return Viewer.anonymous()


class AuthProvider(Provider):
    """Who the caller is (from the session) and how they sign in (OIDC)."""

    @provide(scope=Scope.APP)
    async def http_client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(timeout=10) as client:
            yield client

    @provide(scope=Scope.APP)
    def identity_provider(self, settings: Settings, http: httpx.AsyncClient) -> IdentityProvider | None:
        if not settings.oidc_enabled:
            return None
        return OidcIdentityProvider(
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            scopes=settings.oidc_scopes,
            http=http,
        )

    @provide(scope=Scope.REQUEST)
    def viewer(self, request: Request) -> Viewer:  # type: ignore[type-arg] # dishka keys on the bare class
        scope_session = request.scope.get("session")
        return viewer_from_session(scope_session if isinstance(scope_session, dict) else {})

    sign_in = provide(SignIn, scope=Scope.REQUEST)
    current_user = provide(GetCurrentUser, scope=Scope.REQUEST)
