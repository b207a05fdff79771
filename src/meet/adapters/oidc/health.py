"""Whether the OpenID provider publishes a usable discovery document for the configured issuer."""

from __future__ import annotations

import httpx

REQUIRED = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class OidcDiscoveryHealth:
    name = "oidc"

    def __init__(self, issuer: str, http: httpx.AsyncClient) -> None:
        self._issuer = issuer.rstrip("/")
        self._http = http

    async def ping(self) -> None:
        response = await self._http.get(f"{self._issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        document = response.json()
        if str(document.get("issuer", "")).rstrip("/") != self._issuer:
            raise ValueError(f"the discovery document names another issuer: {document.get('issuer')!r}")
        missing = [key for key in REQUIRED if not document.get(key)]
        if missing:
            raise ValueError(f"the discovery document lacks {', '.join(missing)}")
        (await self._http.get(document["jwks_uri"])).raise_for_status()
