"""OpenID Connect sign-in (authorization code + PKCE, RFC 7636) over the service's own httpx client, ID tokens
checked with joserfc."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
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
        verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-], within RFC 7636's 43-128
        nonce, state = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": self._scopes,
            "state": state,
            "code_challenge": _s256(verifier),
            "code_challenge_method": "S256",
            "nonce": nonce,
        }
        if silent:
            query["prompt"] = "none"
        endpoint = discovery.document["authorization_endpoint"]
        url = f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"
        return PendingAuthorization(url=url, pending={"state": state, "nonce": nonce, "verifier": verifier})

    async def complete(self, *, code: str, state: str, pending: dict[str, str], redirect_uri: str) -> VerifiedIdentity:
        expected_state = pending.get("state", "")
        if not expected_state or not hmac.compare_digest(expected_state.encode(), state.encode()):
            raise SignInFailed("The sign-in state does not match; please start again.")
        discovery = await self._discover()
        token = await self._fetch_token(discovery, code, pending.get("verifier", ""), redirect_uri)
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

    async def _fetch_token(self, discovery: _Discovery, code: str, verifier: str, redirect_uri: str) -> dict[str, Any]:
        """The code exchanged at the token endpoint, the client authenticated by HTTP Basic (client_secret_basic)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        try:
            response = await self._http.post(
                discovery.document["token_endpoint"],
                data=form,
                auth=(self._client_id, self._client_secret),
                headers={"Accept": "application/json"},
                timeout=10,
            )
        except httpx.TransportError as error:
            raise IdentityProviderUnavailable from error
        try:
            token = response.json()
        except ValueError:
            token = None
        if response.status_code != httpx.codes.OK or not isinstance(token, dict) or "error" in token:
            raise SignInFailed("The identity provider refused the sign-in code.")
        return token

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


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _join(*parts: object) -> str | None:
    text = " ".join(str(part) for part in parts if part)
    return text or None
