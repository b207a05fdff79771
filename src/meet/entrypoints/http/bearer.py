"""Bearer tokens on the API: who they speak for, and which scope each operation needs.

Every API operation declares what it takes (``needs``): a scope (a token must carry it), any token,
its own credential (webhooks, the token endpoint), or nothing, meaning a browser session only. The
guard authenticates an ``Authorization: Bearer`` token (never a cookie) and refuses a token without
the operation's scope with a 403 naming it. A bearer request carries no session: the session
middleware neither reads nor writes one for it, and the cross-site check does not apply (a page of
another site cannot set that header without CORS).
"""

from __future__ import annotations

import re
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OAuthFlow, OAuthFlows, Reference, SecurityScheme
from litestar.types import Scope

from meet.domain.applications.bearer import InvalidToken
from meet.domain.users.model import Viewer
from meet.domain.users.scopes import SCOPE_DESCRIPTIONS, ApiScope

OPT_KEY = "meet_needs"
BEARER_ONLY = "meet_bearer_only"  # opt: sessions are not accepted (the external API)
ANY_TOKEN = "any token"  # noqa: S105 - a marker, not a secret
OWN_CREDENTIAL = "own credential"
VIEWER_STATE = "meet.bearer_viewer"
AUTHENTICATOR_STATE = "authenticate_bearer"
SESSION_SCHEME = "session"
BEARER_SCHEME = "bearer"


def needs(scope: ApiScope | str) -> dict[str, Any]:
    """Route decorator arguments: the guard's requirement and the OpenAPI ``security`` that says it.

    Every operation also lists the empty requirement: each answers callers without any credential
    (the room of a public link, or a 401/404 once the domain has looked), so no credential is required
    by the document, only by the domain's rules.
    """
    if scope == OWN_CREDENTIAL:
        return {"opt": {OPT_KEY: scope}, "security": []}
    scopes = [] if scope == ANY_TOKEN else [str(scope)]
    return {"opt": {OPT_KEY: str(scope)}, "security": [{BEARER_SCHEME: scopes}, {SESSION_SCHEME: []}, {}]}


SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    BEARER_SCHEME: SecurityScheme(
        type="oauth2",
        description=(
            "An access token from POST /api/v1/oauth/token (an application acting for a user), or, when "
            "meet is a resource server, one of the organisation's identity provider. Each operation names "
            "the scope it needs."
        ),
        flows=OAuthFlows(
            client_credentials=OAuthFlow(
                token_url="/api/v1/oauth/token",  # noqa: S106 - a path, not a secret
                scopes={scope.value: SCOPE_DESCRIPTIONS[scope] for scope in ApiScope},
            )
        ),
    ),
    SESSION_SCHEME: SecurityScheme(
        type="apiKey",
        name="meet_session",
        security_scheme_in="cookie",
        description="The browser session set by signing in (every scope).",
    ),
}

SESSION_ONLY: dict[str, Any] = {"security": [{SESSION_SCHEME: []}]}


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer`` header; ``""`` when the header names none."""
    value: str | None = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


# These take a participant's SFU token in ``Authorization: Bearer`` (proof of who is in the live room),
# not an API token: for them the header neither authenticates an API caller nor replaces the session.
PARTICIPANT_TOKEN_PATHS = re.compile(r"^/api/v1/rooms/[^/]+/participants/[^/]+/(?:mute|hand|name)/?$")


def has_bearer(scope: Scope) -> bool:
    """Whether the request carries an API bearer token (and so no session)."""
    if PARTICIPANT_TOKEN_PATHS.match(scope.get("path", "")):
        return False
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value[:7].lower() == b"bearer "
    return False


async def bearer_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    required = handler.opt.get(OPT_KEY)
    if required == OWN_CREDENTIAL:
        return
    token = bearer_token(connection.headers)
    if token is None:
        if handler.opt.get(BEARER_ONLY):
            raise InvalidToken("Authentication credentials were not provided: send an Authorization: Bearer token.")
        return
    if not token:
        raise InvalidToken("The Authorization header names no bearer token.")
    viewer: Viewer = await connection.app.state[AUTHENTICATOR_STATE].execute(token)
    connection.scope.setdefault("state", {})[VIEWER_STATE] = viewer
    if required is None:
        viewer.require_session()
    elif required != ANY_TOKEN:
        viewer.require_scope(ApiScope(required))


def bearer_viewer(scope: Scope) -> Viewer | None:
    state = scope.get("state") or {}
    viewer = state.get(VIEWER_STATE)
    return viewer if isinstance(viewer, Viewer) else None
