"""Sign-in (OIDC authorization code + PKCE, or the development sign-in) and sign-out."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, Parameter
from litestar.response import Redirect
from litestar.status_codes import HTTP_204_NO_CONTENT

from meet.domain.users.errors import NoSignInInProgress
from meet.domain.users.model import VerifiedIdentity
from meet.domain.users.use_cases import (
    BeginSignIn,
    BeginSignInRequest,
    CompleteSignIn,
    CompleteSignInRequest,
    SignIn,
)
from meet.entrypoints.http.paths import API_PREFIX
from meet.entrypoints.http.sessions import remember_signed_in
from meet.entrypoints.http.users import UserOut
from meet.entrypoints.settings import Settings

PENDING_KEY = "oidc_pending"


def callback_uri(request: Request[Any, Any, Any], settings: Settings) -> str:
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    return f"{base}{API_PREFIX}/auth/callback"


def safe_next(value: str | None, default: str) -> str:
    """Only same-site relative paths: never an open redirect."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return default


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @get("/login", summary="Start signing in with the identity provider", status_code=302)
    async def login(
        self,
        request: Request[Any, Any, Any],
        settings: FromDishka[Settings],
        begin: FromDishka[BeginSignIn],
        next_path: Annotated[str | None, Parameter(query="next", max_length=2000)] = None,
    ) -> Redirect:
        authorization = await begin.execute(BeginSignInRequest(redirect_uri=callback_uri(request, settings)))
        pending = {**authorization.pending, "next": safe_next(next_path, settings.frontend_url)}
        request.set_session({**(request.session or {}), PENDING_KEY: pending})
        return Redirect(authorization.url)

    @get("/callback", summary="Where the identity provider sends the browser back", status_code=302)
    async def callback(
        self,
        request: Request[Any, Any, Any],
        settings: FromDishka[Settings],
        complete: FromDishka[CompleteSignIn],
        code: Annotated[str, Parameter(max_length=4000)],
        oidc_state: Annotated[str, Parameter(query="state", max_length=1000)],
    ) -> Redirect:
        pending = (request.session or {}).get(PENDING_KEY)
        if not isinstance(pending, dict):
            raise NoSignInInProgress
        user = await complete.execute(
            CompleteSignInRequest(
                code=code, state=oidc_state, pending=pending, redirect_uri=callback_uri(request, settings)
            )
        )
        remember_signed_in(request, user)
        return Redirect(safe_next(pending.get("next"), settings.frontend_url))

    @post("/logout", summary="End the session", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, request: Request[Any, Any, Any]) -> None:
        request.clear_session()


class DevLogin(msgspec.Struct, forbid_unknown_fields=True):
    sub: Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
    email: Annotated[str, msgspec.Meta(max_length=320)] | None = None
    full_name: Annotated[str, msgspec.Meta(max_length=255)] | None = None


class DevAuthController(Controller):
    """Development-profile only: sign in as anyone. Never registered in production."""

    path = "/auth"
    tags = ["auth (development)"]

    @post("/dev-login", summary="Development sign-in (development profile only)", status_code=200)
    async def dev_login(
        self, request: Request[Any, Any, Any], data: JSONBody[DevLogin], sign_in: FromDishka[SignIn]
    ) -> Response[UserOut]:
        user = await sign_in.execute(VerifiedIdentity(sub=data.sub, email=data.email, full_name=data.full_name))
        remember_signed_in(request, user)
        return Response(UserOut.of(user))
