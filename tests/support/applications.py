"""Applications in API tests: registered through the app's own use case, assertions signed with their keys."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from meet.domain.applications.use_cases import ManageApplications, NewApplication, RegisterApplication
from tests.api.conftest import Api

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_URL = "/api/v1/oauth/token"


@dataclass
class App:
    client_id: str
    secret: str | None = None
    key: ECKey | None = None

    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.secret}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}

    def assertion(self, subject: str, *, audience: str, key: ECKey | None = None, **overrides: Any) -> str:
        assert self.key is not None
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": subject, "aud": audience, "iat": now, "exp": now + 120,
                  "jti": secrets.token_urlsafe(12), **overrides}  # fmt: skip
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode({"alg": "ES256"}, claims, key or self.key)


async def register(
    api: Api, scopes: list[str], *, domains: tuple[str, ...] = ("example.org",), public_key: bool = False
) -> App:
    container = api.client.app.state.dishka_container
    key = ECKey.generate_key("P-256") if public_key else None
    registered = await (await container.get(RegisterApplication)).execute(
        NewApplication(
            name="Calendar",
            scopes=scopes,
            domains=domains,
            public_key=json.dumps(key.as_dict(private=False)) if key else None,
        )
    )
    return App(str(registered.application.client_id), registered.client_secret, key)


async def manage(api: Api) -> ManageApplications:
    manager: ManageApplications = await api.client.app.state.dishka_container.get(ManageApplications)
    return manager


async def token_for(api: Api, app: App, email: str, scope: str | None = None) -> httpx.Response:
    form = {"grant_type": "client_credentials", "subject": email, **({"scope": scope} if scope else {})}
    return await api.request("POST", TOKEN_URL, data=form, headers=app.basic())


async def bearer(api: Api, app: App, email: str, scope: str | None = None) -> dict[str, str]:
    response = await token_for(api, app, email, scope)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
