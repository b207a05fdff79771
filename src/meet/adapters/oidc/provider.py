"""OpenID Connect sign-in (authorization code + PKCE) with authlib, ID tokens checked with joserfc."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from meet.domain.shared.errors import AuthenticationRequired, ServiceUnavailable
from meet.domain.users.model import VerifiedIdentity

_DISCOVERY_TTL_SECONDS = 3600.0


class IdentityProviderUnavailable(ServiceUnavailable):
    default_message = "The identity provider is unavailable; try signing in again shortly."
    code = "identity_provider_unavailable"


class SignInFailed(AuthenticationRequired):
    default_message = "Sign-in failed; please start again."
    code = "sign_in_failed"


@dataclass(frozen=True, slots=True)
class PendingAuthorization:
    url: str
    pending: dict[str, str]


@dataclass(slots=True)
class _Discovery:
    document: dict[str, Any]
    keys: KeySet
    fetched_at: float = field(default_factory=time.monotonic)


class OidcIdentityProvider:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        scopes: str = "openid email profile",
        http: httpx.AsyncClient,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._http = http
        self._discovery: _Discovery | None = None

    async def begin(self, redirect_uri: str, *, silent: bool = False) -> PendingAuthorization:
        discovery = await self._discover()
        verifier = generate_token(64)
        nonce = secrets.token_urlsafe(24)
        client = self._client(redirect_uri)
        extra = {"prompt": "none"} if silent else {}
        url, state = client.create_authorization_url(
            discovery.document["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
        )
        return PendingAuthorization(url=url, pending={"state": state, "nonce": nonce, "verifier": verifier})

    async def complete(self, *, code: str, state: str, pending: dict[str, str], redirect_uri: str) -> VerifiedIdentity:
        expected_state = pending.get("state", "")
        if not expected_state or not hmac.compare_digest(expected_state.encode(), state.encode()):
            raise SignInFailed("The sign-in state does not match; please start again.")
        discovery = await self._discover()
        client = self._client(redirect_uri)
        try:
            token = await client.fetch_token(
                discovery.document["token_endpoint"],
                code=code,
                code_verifier=pending.get("verifier", ""),
            )
        except httpx.TransportError as error:
            raise IdentityProviderUnavailable from error
        except Exception as error:  # authlib raises OAuthError and friends for refusals
            raise SignInFailed("The identity provider refused the sign-in code.") from error
        claims = self._verify_id_token(token.get("id_token"), discovery.keys, pending.get("nonce", ""))
        userinfo = await self._userinfo(discovery, token.get("access_token"))
        if userinfo.get("sub", claims["sub"]) != claims["sub"]:
            raise SignInFailed("The identity provider returned inconsistent identities.")
        merged = {**claims, **userinfo}
        return VerifiedIdentity(
            sub=str(claims["sub"]),
            email=merged.get("email"),
            full_name=merged.get("name") or _join(merged.get("given_name"), merged.get("family_name")),
            short_name=merged.get("given_name") or merged.get("preferred_username"),
            language=merged.get("locale"),
        )

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._client_id,
            client_secret=self._client_secret,
            scope=self._scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=10,
        )

    def _verify_id_token(self, id_token: object, keys: KeySet, nonce: str) -> dict[str, Any]:
        if not isinstance(id_token, str):
            raise SignInFailed("The identity provider sent no ID token.")
        try:
            decoded = jwt.decode(id_token, keys)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._client_id},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
                exp={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as error:
            raise SignInFailed("The ID token could not be verified.") from error
        return dict(decoded.claims)

    async def _userinfo(self, discovery: _Discovery, access_token: object) -> dict[str, Any]:
        endpoint = discovery.document.get("userinfo_endpoint")
        if not endpoint or not isinstance(access_token, str):
            return {}
        try:
            response = await self._http.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        except httpx.TransportError as error:
            raise IdentityProviderUnavailable from error
        if response.status_code != httpx.codes.OK:
            return {}
        data = response.json()
        return data if isinstance(data, dict) else {}

    async def _discover(self) -> _Discovery:
        cached = self._discovery
        if cached and time.monotonic() - cached.fetched_at < _DISCOVERY_TTL_SECONDS:
            return cached
        try:
            document = (await self._http.get(f"{self._issuer}/.well-known/openid-configuration")).json()
            jwks = (await self._http.get(document["jwks_uri"])).json()
        except (httpx.TransportError, ValueError, KeyError) as error:
            raise IdentityProviderUnavailable from error
        self._discovery = _Discovery(document=document, keys=KeySet.import_key_set(jwks))
        return self._discovery


def _join(*parts: object) -> str | None:
    text = " ".join(str(part) for part in parts if part)
    return text or None
