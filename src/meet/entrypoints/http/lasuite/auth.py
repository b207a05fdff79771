"""Sign-in and sign-out as La Suite Meet's frontend drives them: browser redirects to ``authenticate/``
(``returnTo``, ``silent``), the provider's return to ``callback/``, and ``logout``. The flow is meet's
(OIDC code + PKCE, a session renewed at sign-in); only the paths and the way back differ."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, get
from litestar.params import Parameter
from litestar.response import Redirect

from meet.domain.users.errors import NoSignInInProgress
from meet.domain.users.use_cases import BeginSignIn, BeginSignInRequest, CompleteSignIn, CompleteSignInRequest
from meet.entrypoints.http.auth import PENDING_KEY, safe_next
from meet.entrypoints.http.sessions import remember_signed_in
from meet.entrypoints.settings import Settings

LASUITE_PREFIX = "/api/v1.0"


def _origin(request: Request[Any, Any, Any], settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


def _callback_uri(request: Request[Any, Any, Any], settings: Settings) -> str:
    return f"{_origin(request, settings)}{LASUITE_PREFIX}/callback/"


def return_path(value: str | None, request: Request[Any, Any, Any], settings: Settings) -> str:
    """``returnTo`` is the app's full URL: only one on this service's own origin is followed (as a path)."""
    if value and not value.startswith("/"):
        own, target = urlsplit(_origin(request, settings)), urlsplit(value)
        if (target.scheme, target.netloc) != (own.scheme, own.netloc):
            return settings.frontend_url
        value = (
            target.path
            + (f"?{target.query}" if target.query else "")
            + (f"#{target.fragment}" if target.fragment else "")
        )
    return safe_next(value, settings.frontend_url)


class LaSuiteAuthController(Controller):
    tags = ["La Suite Meet"]

    @get(
        "/authenticate",
        summary="Start signing in (``silent``: only if the provider needs no interaction)",
        status_code=302,
    )
    async def authenticate(
        self,
        request: Request[Any, Any, Any],
        settings: FromDishka[Settings],
        begin: FromDishka[BeginSignIn],
        return_to: Annotated[str | None, Parameter(query="returnTo", max_length=2000)] = None,
        silent: Annotated[str | None, Parameter(max_length=10)] = None,
    ) -> Redirect:
        quiet = (silent or "").lower() == "true"
        authorization = await begin.execute(
            BeginSignInRequest(redirect_uri=_callback_uri(request, settings), silent=quiet)
        )
        pending = {**authorization.pending, "next": return_path(return_to, request, settings)}
        if quiet:
            pending["silent"] = "true"
        request.set_session({**(request.session or {}), PENDING_KEY: pending})
        return Redirect(authorization.url)

    @get("/callback", summary="Where the identity provider sends the browser back", status_code=302)
    async def callback(
        self,
        request: Request[Any, Any, Any],
        settings: FromDishka[Settings],
        complete: FromDishka[CompleteSignIn],
        oidc_state: Annotated[str, Parameter(query="state", max_length=1000)],
        code: Annotated[str | None, Parameter(max_length=4000)] = None,
        error: Annotated[str | None, Parameter(max_length=200)] = None,  # noqa: ARG002 - any refusal goes back
    ) -> Redirect:
        session = dict(request.session or {})
        pending = session.get(PENDING_KEY)
        if not isinstance(pending, dict):
            raise NoSignInInProgress
        back = safe_next(pending.get("next"), settings.frontend_url)
        if code is None:
            # The provider declined (for a silent attempt: nobody is signed in there). The visitor goes back
            # where they were, still signed out; the attempt is over.
            session.pop(PENDING_KEY, None)
            request.set_session(session)
            return Redirect(back)
        user = await complete.execute(
            CompleteSignInRequest(
                code=code, state=oidc_state, pending=pending, redirect_uri=_callback_uri(request, settings)
            )
        )
        remember_signed_in(request, user)
        return Redirect(back)

    @get("/logout", summary="End the session, then back to the app", status_code=302)
    async def logout(self, request: Request[Any, Any, Any], settings: FromDishka[Settings]) -> Redirect:
        # A browser redirect, so a GET: another site's page cannot sign the visitor out.
        if request.headers.get("sec-fetch-site", "") != "cross-site":
            request.clear_session()
        return Redirect(settings.frontend_url)
