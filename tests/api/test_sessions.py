"""Server-side sessions, on the embedded (memory) store, on a real Redis and on a real Redis Cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.support.redis_settings import STORES, fresh_stores


@pytest.fixture(params=STORES)
async def api(request: pytest.FixtureRequest, api_with: Any) -> AsyncIterator[Api]:
    async with api_with(**await fresh_stores(request, request.param)) as running:
        yield running


async def test_me_is_401_when_anonymous_and_the_user_when_signed_in(api: Api) -> None:
    assert (await api.request("GET", "/api/v1/users/me")).status_code == 401
    await api.sign_in("alice", email="alice@example.org", full_name="Alice Liddell")
    me = (await api.request("GET", "/api/v1/users/me", user="alice")).json()
    assert me["sub"] == "alice"
    assert me["email"] == "alice@example.org"
    assert me["full_name"] == "Alice Liddell"


async def test_signing_in_again_updates_the_profile_and_keeps_the_user(api: Api) -> None:
    first = await api.sign_in("alice", full_name="Alice")
    second = await api.sign_in("alice", full_name="Alice Liddell")
    assert first["id"] == second["id"]
    assert second["full_name"] == "Alice Liddell"


async def test_logout_ends_the_session(api: Api) -> None:
    await api.sign_in("alice")
    response = await api.request("POST", "/api/v1/auth/logout", user="alice")
    assert response.status_code == 204
    assert (await api.request("GET", "/api/v1/users/me", user="alice")).status_code == 401


async def test_the_session_cookie_is_http_only_secure_and_lax(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/dev-login", json={"sub": "alice"})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "secure" in cookie
    assert "samesite=lax" in cookie
    api.client.cookies.clear()


async def test_a_planted_session_id_is_replaced_at_sign_in(api: Api) -> None:
    planted = "attacker-chosen-session-id"
    response = await api.client.post(
        "/api/v1/auth/dev-login", json={"sub": "alice"}, headers={"Cookie": f"meet_session={planted}"}
    )
    api.client.cookies.clear()
    assert response.cookies["meet_session"] != planted
    assert (
        await api.request("GET", "/api/v1/users/me", headers={"Cookie": f"meet_session={planted}"})
    ).status_code == 401


async def test_a_forged_session_cookie_is_anonymous(api: Api) -> None:
    response = await api.request("GET", "/api/v1/users/me", headers={"Cookie": "meet_session=forged"})
    assert response.status_code == 401


async def test_the_development_sign_in_does_not_exist_in_production(api_with) -> None:  # type: ignore[no-untyped-def]
    production = {
        "profile": "production",
        "secret_key": "k" * 40,
        "livekit_api_key": "prodkey",
        "livekit_api_secret": "p" * 40,
    }
    async with api_with(**production) as api:
        response = await api.client.post("/api/v1/auth/dev-login", json={"sub": "alice"})
        assert response.status_code in {404, 405}
        assert (await api.request("GET", "/api/v1/config")).json()["features"]["dev_sign_in"] is False


async def test_sign_in_without_a_configured_provider_says_so(api: Api) -> None:
    response = await api.request("GET", "/api/v1/auth/login", follow_redirects=False)
    assert response.status_code == 404
    assert response.json()["error"] == "sign_in_not_configured"
