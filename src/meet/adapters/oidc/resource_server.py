"""The identity provider's access tokens, for meet as a resource server: JWTs (RFC 9068) verified
against the provider's published keys, or opaque tokens through its introspection endpoint (RFC 7662)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from meet.adapters.oidc.provider import IdentityProviderUnavailable
from meet.domain.applications.ports import ProviderToken
from meet.domain.users.scopes import ALL_SCOPES, ApiScope

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
JWT_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_KEYS_TTL_SECONDS = 3600.0
_KEYS_REFRESH_FLOOR_SECONDS = 30.0  # an unknown key id refetches the keys, at most this often
_INTROSPECTION_CACHE_SECONDS = 30.0
_INTROSPECTION_CACHE_SIZE = 10_000


def meet_scopes(scope: object) -> frozenset[ApiScope]:
    """The scopes of meet among a token's (``openid``, ``email``... are someone else's)."""
    names = scope.split() if isinstance(scope, str) else []
    return frozenset(ApiScope(name) for name in names if name in ALL_SCOPES)


@dataclass(slots=True)
class _Metadata:
    document: dict[str, Any]
    keys: KeySet
    fetched_at: float


class OidcProviderTokens:
    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        introspection: bool,
        client_id: str,
        client_secret: str,
        http: httpx.AsyncClient,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._audience = audience
        self._introspection = introspection
        self._client_id = client_id
        self._client_secret = client_secret
        self._http = http
        self._metadata: _Metadata | None = None
        self._introspected: dict[bytes, tuple[float, ProviderToken | None]] = {}

    async def verify(self, token: str) -> ProviderToken | None:
        if token.count(".") == 2 and self._audience:
            verified = await self._verify_jwt(token)
            if verified is not None or not self._introspection:
                return verified
        if self._introspection:
            return await self._introspect(token)
        return None

    async def _verify_jwt(self, token: str) -> ProviderToken | None:
        metadata = await self._discover()
        try:
            decoded = jwt.decode(token, metadata.keys, algorithms=list(ALGORITHMS))
        except JoseError:
            if time.monotonic() - metadata.fetched_at < _KEYS_REFRESH_FLOOR_SECONDS:
                return None
            metadata = await self._discover(refresh=True)  # the provider may have rotated its keys
            try:
                decoded = jwt.decode(token, metadata.keys, algorithms=list(ALGORITHMS))
            except JoseError:
                return None
        except ValueError:
            return None
        if str(decoded.header.get("typ", "")).lower() not in JWT_TYPES:
            return None  # an ID token or another JWT is not an access token (RFC 9068, 4)
        try:
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except JoseError:
            return None
        claims = decoded.claims
        return ProviderToken(sub=str(claims["sub"]), scopes=meet_scopes(claims.get("scope")), client_id=_text(claims))

    async def _introspect(self, token: str) -> ProviderToken | None:
        key = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        cached = self._introspected.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        answer = await self._ask(token)
        if len(self._introspected) >= _INTROSPECTION_CACHE_SIZE:
            self._introspected = {k: v for k, v in self._introspected.items() if v[0] > now}
        expires = answer.get("exp") if isinstance(answer.get("exp"), int) else None
        remaining = (expires - time.time()) if expires else _INTROSPECTION_CACHE_SECONDS
        result = self._active(answer)
        self._introspected[key] = (now + max(0.0, min(_INTROSPECTION_CACHE_SECONDS, remaining)), result)
        return result

    def _active(self, answer: dict[str, Any]) -> ProviderToken | None:
        if answer.get("active") is not True or not isinstance(answer.get("sub"), str):
            return None
        if "iss" in answer and str(answer["iss"]).rstrip("/") != self._issuer:
            return None
        if self._audience:
            audiences = answer.get("aud")
            listed = audiences if isinstance(audiences, list) else [audiences]
            if self._audience not in listed:
                return None
        expires = answer.get("exp")
        if isinstance(expires, int) and expires <= time.time():
            return None
        return ProviderToken(sub=answer["sub"], scopes=meet_scopes(answer.get("scope")), client_id=_text(answer))

    async def _ask(self, token: str) -> dict[str, Any]:
        metadata = await self._discover()
        endpoint = metadata.document.get("introspection_endpoint")
        if not isinstance(endpoint, str):
            raise IdentityProviderUnavailable("The identity provider offers no introspection endpoint.")
        # client_secret_basic (RFC 6749 2.3.1): each part form-encoded before the Basic encoding.
        credentials = (quote(self._client_id, safe=""), quote(self._client_secret, safe=""))
        try:
            async with httpx.AsyncClient(timeout=10, auth=credentials) as client:
                response = await client.post(
                    endpoint,
                    data={"token": token, "token_type_hint": "access_token"},
                    headers={"Accept": "application/json"},
                )
        except httpx.TransportError as error:
            raise IdentityProviderUnavailable from error
        if response.status_code != httpx.codes.OK:
            raise IdentityProviderUnavailable(f"The identity provider's introspection answered {response.status_code}.")
        try:
            data = response.json()
        except ValueError as error:
            raise IdentityProviderUnavailable from error
        return data if isinstance(data, dict) else {}

    async def _discover(self, *, refresh: bool = False) -> _Metadata:
        cached = self._metadata
        if cached and not refresh and time.monotonic() - cached.fetched_at < _KEYS_TTL_SECONDS:
            return cached
        try:
            document = (await self._http.get(f"{self._issuer}/.well-known/openid-configuration")).json()
            keys = KeySet.import_key_set((await self._http.get(document["jwks_uri"])).json())
        except (httpx.TransportError, ValueError, KeyError, JoseError) as error:
            raise IdentityProviderUnavailable from error
        self._metadata = _Metadata(document=document, keys=keys, fetched_at=time.monotonic())
        return self._metadata


def _text(claims: Any) -> str | None:
    value = claims.get("client_id")
    return value if isinstance(value, str) else None
