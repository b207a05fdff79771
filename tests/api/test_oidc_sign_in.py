"""Sign-in against a real OpenID Connect provider process (oidc-provider-mock), end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.api.conftest import Api
from tests.support.services import OidcProvider, free_port


@pytest.fixture
async def oidc_api(api_with: Any, oidc_provider: OidcProvider) -> AsyncIterator[Api]:
    async with api_with(
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        frontend_url="/app/",
    ) as api:
        yield api


async def start_login(api: Api, next_path: str | None = None) -> tuple[str, str]:
    """Ask the API to start signing in: the provider URL to visit, and the browser's session cookie."""
    url = "/api/v1/auth/login" + (f"?next={next_path}" if next_path else "")
    response = await api.client.get(url, follow_redirects=False)
    api.client.cookies.clear()
    assert response.status_code == 302, response.text
    return response.headers["location"], response.cookies[SESSION_COOKIE]


async def consent_at_provider(provider: OidcProvider, authorize_url: str, sub: str, claims: dict[str, Any]) -> str:
    """The user signs in at the provider; answer where it sends the browser back."""
    async with httpx.AsyncClient() as browser:
        await browser.put(f"{provider.issuer}/users/{sub}", json=claims)
        response = await browser.post(authorize_url, data={"sub": sub}, follow_redirects=False)
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_user_signs_in_with_the_provider(oidc_api: Api, oidc_provider: OidcProvider) -> None:
    authorize_url, cookie = await start_login(oidc_api, next_path="/rooms/daily")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["client_id"] == [oidc_provider.client_id]
    assert "nonce" in query
    back = await consent_at_provider(
        oidc_provider, authorize_url, "alice-sub", {"email": "alice@example.org", "name": "Alice Liddell"}
    )
    response = await oidc_api.request(
        "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, follow_redirects=False
    )
    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/rooms/daily"
    signed_in = response.cookies[SESSION_COOKIE]
    assert signed_in != cookie
    me = await oidc_api.request("GET", "/api/v1/users/me", headers={"Cookie": f"{SESSION_COOKIE}={signed_in}"})
    assert me.status_code == 200
    assert me.json()["sub"] == "alice-sub"
    assert me.json()["email"] == "alice@example.org"
    assert me.json()["full_name"] == "Alice Liddell"


async def test_a_code_for_another_browser_is_refused(oidc_api: Api, oidc_provider: OidcProvider) -> None:
    authorize_url, _ = await start_login(oidc_api)
    _, other_browser = await start_login(oidc_api)
    back = await consent_at_provider(oidc_provider, authorize_url, "bob-sub", {"email": "bob@example.org"})
    response = await oidc_api.request(
        "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={other_browser}"}, follow_redirects=False
    )
    assert response.status_code == 401
    assert response.json()["error"] == "sign_in_failed"


async def test_a_callback_without_a_sign_in_in_progress_is_refused(oidc_api: Api) -> None:
    response = await oidc_api.request("GET", "/api/v1/auth/callback?code=abc&state=def", follow_redirects=False)
    assert response.status_code == 409
    assert response.json()["error"] == "no_sign_in_in_progress"


async def test_a_replayed_code_is_refused(oidc_api: Api, oidc_provider: OidcProvider) -> None:
    authorize_url, cookie = await start_login(oidc_api)
    back = await consent_at_provider(oidc_provider, authorize_url, "carol-sub", {"email": "carol@example.org"})
    first = await oidc_api.request(
        "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, follow_redirects=False
    )
    assert first.status_code == 302
    _, cookie2 = await start_login(oidc_api)
    replay = await oidc_api.request(
        "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={cookie2}"}, follow_redirects=False
    )
    assert replay.status_code == 401


async def test_an_open_redirect_is_not_possible(oidc_api: Api, oidc_provider: OidcProvider) -> None:
    authorize_url, cookie = await start_login(oidc_api, next_path="//evil.example.org/")
    back = await consent_at_provider(oidc_provider, authorize_url, "dave-sub", {"email": "dave@example.org"})
    response = await oidc_api.request(
        "GET", path_of(back), headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, follow_redirects=False
    )
    assert response.headers["location"] == "/app/"


async def test_an_unreachable_provider_is_a_503(api_with: Any) -> None:
    async with api_with(
        oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="meet", oidc_client_secret="s"
    ) as api:
        response = await api.request("GET", "/api/v1/auth/login", follow_redirects=False)
        assert response.status_code == 503
        assert response.json()["error"] == "identity_provider_unavailable"
