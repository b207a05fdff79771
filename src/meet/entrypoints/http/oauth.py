"""The OAuth 2.0 token endpoint (RFC 6749 section 3.2): applications obtain tokens acting for a user.

Form-encoded in, RFC 6749 JSON out, errors as ``{"error", "error_description"}`` with the statuses
section 5.2 prescribes (``invalid_client``: 401; the others 400; ``access_denied``: 403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from dishka.integrations.litestar import FromDishka
from litestar import Controller, MediaType, Request, Response, post
from litestar.enums import RequestEncodingType
from litestar.params import Body

from meet.domain.applications.errors import InvalidClient, InvalidRequest, UnsupportedGrantType
from meet.domain.applications.use_cases import (
    ClientSecretRequest,
    IssueApplicationToken,
    IssuedToken,
    JwtBearerRequest,
)
from meet.domain.shared.errors import DomainError, RateLimited, ServiceUnavailable
from meet.entrypoints.http.bearer import OWN_CREDENTIAL, needs
from meet.entrypoints.http.errors import status_for
from meet.entrypoints.settings import Settings

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_CREDENTIALS = "client_credentials"
TOKEN_PATH = "/api/v1/oauth/token"  # noqa: S105 - a path, not a secret
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class TokenForm:
    grant_type: str = ""
    assertion: str | None = None
    subject: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class TokenOut(msgspec.Struct):
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 - the scheme, not a secret


class OAuthErrorOut(msgspec.Struct):
    error: str
    error_description: str


def assertion_audiences(request: Request[Any, Any, Any], settings: Settings) -> tuple[str, ...]:
    """What an assertion's ``aud`` may name: the token endpoint's URL (RFC 7523, 3), or the service's."""
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url).rstrip("/")
    return (f"{base}{TOKEN_PATH}", base)


def token_out(issued: IssuedToken) -> TokenOut:
    return TokenOut(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=" ".join(sorted(issued.scopes))
    )


def oauth_error(error: DomainError, *, basic: bool) -> Response[OAuthErrorOut]:
    """A refusal in RFC 6749's shape; a backing service down is ``temporarily_unavailable`` (503)."""
    headers = dict(NO_STORE)
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = "5"
        return Response(OAuthErrorOut("temporarily_unavailable", error.message), status_code=503, headers=headers)
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after_seconds)
    if isinstance(error, InvalidClient) and basic:
        headers["WWW-Authenticate"] = 'Basic realm="meet"'
    return Response(
        OAuthErrorOut(error.code, error.message),
        status_code=status_for(error),
        headers=headers,
        media_type=MediaType.JSON,
    )


def _grant_request(
    form: TokenForm, request: Request[Any, Any, Any], audiences: tuple[str, ...]
) -> JwtBearerRequest | ClientSecretRequest:
    if form.grant_type == JWT_BEARER:
        if not form.assertion:
            raise InvalidRequest("The 'assertion' parameter is required with the JWT bearer grant.")
        return JwtBearerRequest(assertion=form.assertion, audiences=audiences, scope=form.scope)
    if form.grant_type == CLIENT_CREDENTIALS:
        basic_id, basic_secret = extract_basic_authorization(request.headers)
        client_id = basic_id or form.client_id
        secret = basic_secret if basic_id else form.client_secret
        if not client_id or not secret:
            raise InvalidClient("Authenticate the client with HTTP Basic (client_id and client_secret).")
        if basic_id and form.client_secret:
            raise InvalidRequest("Send the client's credentials in one way only.")
        return ClientSecretRequest(
            client_id=client_id, client_secret=secret, subject=form.subject or "", scope=form.scope
        )
    if not form.grant_type:
        raise InvalidRequest("The 'grant_type' parameter is required.")
    raise UnsupportedGrantType(
        f"Unsupported grant type {form.grant_type[:100]!r}: use {JWT_BEARER} or {CLIENT_CREDENTIALS}."
    )


class OAuthController(Controller):
    path = "/oauth"
    tags = ["applications"]

    @post(
        "/token",
        status_code=200,
        summary="Obtain an access token acting for a user (JWT bearer grant, or client credentials)",
        description=(
            f"grant_type={JWT_BEARER}&assertion=JWT (iss and sub: the client_id and the user's email; aud: this "
            f"endpoint's URL; exp; jti, used once), or grant_type={CLIENT_CREDENTIALS}&subject=EMAIL with HTTP "
            "Basic client authentication. Optional scope: space-separated, at most the application's."
        ),
        **needs(OWN_CREDENTIAL),
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[TokenForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        issue: FromDishka[IssueApplicationToken],
        settings: FromDishka[Settings],
    ) -> Response[TokenOut | OAuthErrorOut]:
        metrics = request.app.state.metrics
        grant = data.grant_type if data.grant_type in {JWT_BEARER, CLIENT_CREDENTIALS} else "other"
        basic = (request.headers.get("authorization") or "").lower().startswith("basic ")
        try:
            issued = await issue.execute(_grant_request(data, request, assertion_audiences(request, settings)))
        except DomainError as error:
            metrics.token_request(grant, error.code)
            return oauth_error(error, basic=basic)  # type: ignore[return-value]
        metrics.token_request(grant, "issued")
        return Response(token_out(issued), headers=NO_STORE)
