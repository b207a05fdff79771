"""What every page of the app calls first: ``config/``, ``users/me``; sign-in and sign-out redirects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.api.conftest import BASE_URL, Api
from tests.api.lasuite.conftest import V1
from tests.support.services import OidcProvider


async def test_config_has_every_field_the_app_dereferences(lasuite: Api) -> None:
    response = await lasuite.request("GET", f"{V1}/config/")
    assert response.status_code == 200
    config = response.json()
    assert config["livekit"] == {
        "url": "ws://localhost:7880",
        "force_wss_protocol": False,
        "enable_firefox_proxy_workaround": False,
        "default_sources": ["camera", "microphone", "screen_share", "screen_share_audio"],
    }
    # Features meet does not offer are off, so the app hides them.
    assert config["subtitle"] == {"enabled": False}
    assert config["telephony"] == {"enabled": False}
    assert config["diagnostics"] == {"connection_test_enabled": False}
    assert config["background_image"]["upload_is_enabled"] is False
    assert config["feedback"] == {"url": ""}
    assert config["recording"]["is_enabled"] is True
    assert set(config["recording"]["available_modes"]) == {"screen_recording", "transcript"}
    for number in ("max_participants_for_sound", "auto_mute_on_join_threshold"):
        assert isinstance(config[number], int)
    assert config["authenticated_users_can_edit_display_name"] is True
    assert config["is_silent_login_enabled"] is False  # no identity provider configured here


async def test_users_me_is_401_when_signed_out_and_the_user_when_signed_in(lasuite: Api) -> None:
    signed_out = await lasuite.request("GET", f"{V1}/users/me")
    assert signed_out.status_code == 401
    assert signed_out.json() == {"detail": "Authentication is required."}
    await lasuite.sign_in("alice", email="alice@example.org", full_name="Alice Liddell")
    me = await lasuite.request("GET", f"{V1}/users/me", user="alice")
    assert me.status_code == 200
    body = me.json()
    assert body["email"] == "alice@example.org"
    assert body["full_name"] == "Alice Liddell"
    assert {"id", "language", "timezone", "default_room_access_level", "default_room_configuration"} <= body.keys()
    assert body["default_room_access_level"] is None


async def test_an_unknown_call_is_a_404_in_la_suites_shape(lasuite: Api) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await lasuite.request(method, f"{V1}/no/such/call/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such call in La Suite Meet's API."}
    assert (await lasuite.request("GET", f"{V1}/config/")).status_code == 200
    assert (await lasuite.request("GET", f"{V1}/rooms/some-room/")).status_code == 200


async def test_the_surface_is_off_unless_switched_on(api: Api) -> None:
    assert (await api.request("GET", f"{V1}/config/")).status_code == 404
    assert (await api.request("GET", "/api/v1/config")).status_code == 200


@pytest.fixture
async def oidc_lasuite(api_with: Any, oidc_provider: OidcProvider, fresh_postgres_database: str) -> AsyncIterator[Api]:
    async with api_with(
        lasuite_api="true",
        database_url=fresh_postgres_database,
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        lasuite_silent_login="true",
    ) as api:
        yield api


async def authenticate(api: Api, query: str) -> tuple[str, str]:
    response = await api.client.get(f"{V1}/authenticate/?{query}", follow_redirects=False)
    api.client.cookies.clear()
    assert response.status_code == 302, response.text
    return response.headers["location"], response.cookies[SESSION_COOKIE]


async def test_sign_in_returns_to_the_page_and_sign_out_ends_the_session(
    oidc_lasuite: Api, oidc_provider: OidcProvider
) -> None:
    config = (await oidc_lasuite.request("GET", f"{V1}/config/")).json()
    assert config["is_silent_login_enabled"] is True
    authorize_url, cookie = await authenticate(oidc_lasuite, f"silent=false&returnTo={BASE_URL}/room/daily%3Fx%3D1")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["redirect_uri"] == [f"{BASE_URL}/api/v1.0/callback/"]
    assert "prompt" not in query
    async with httpx.AsyncClient() as browser:
        await browser.put(f"{oidc_provider.issuer}/users/ann", json={"email": "ann@example.org", "name": "Ann"})
        back = await browser.post(authorize_url, data={"sub": "ann"}, follow_redirects=False)
    parts = urlsplit(back.headers["location"])
    assert parts.path == "/api/v1.0/callback/"
    response = await oidc_lasuite.request(
        "GET", f"{parts.path}?{parts.query}", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}, follow_redirects=False
    )
    assert response.status_code == 302, response.text
    assert response.headers["location"] == "/room/daily?x=1"
    session = response.cookies[SESSION_COOKIE]
    assert session != cookie  # renewed at sign-in
    signed_in = {"Cookie": f"{SESSION_COOKIE}={session}"}
    me = await oidc_lasuite.request("GET", f"{V1}/users/me", headers=signed_in)
    assert me.status_code == 200
    assert me.json()["email"] == "ann@example.org"

    out = await oidc_lasuite.request("GET", f"{V1}/logout", headers=signed_in, follow_redirects=False)
    assert out.status_code == 302
    assert out.headers["location"] == "/"
    assert (await oidc_lasuite.request("GET", f"{V1}/users/me", headers=signed_in)).status_code == 401


async def test_silent_sign_in_goes_back_to_the_page_when_the_provider_answers_login_required(
    oidc_lasuite: Api,
) -> None:
    authorize_url, cookie = await authenticate(oidc_lasuite, f"silent=true&returnTo={BASE_URL}/room/daily")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["prompt"] == ["none"]
    # The provider's answer when nobody is signed in there (OIDC Core 3.1.2.6).
    refused = await oidc_lasuite.request(
        "GET",
        f"{V1}/callback/?error=login_required&state={query['state'][0]}",
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
        follow_redirects=False,
    )
    assert refused.status_code == 302
    assert refused.headers["location"] == "/room/daily"
    me = await oidc_lasuite.request("GET", f"{V1}/users/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert me.status_code == 401


async def test_return_to_another_site_is_not_followed(oidc_lasuite: Api) -> None:
    authorize_url, cookie = await authenticate(oidc_lasuite, "silent=true&returnTo=https://evil.example/steal")
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    refused = await oidc_lasuite.request(
        "GET",
        f"{V1}/callback/?error=login_required&state={state}",
        headers={"Cookie": f"{SESSION_COOKIE}={cookie}"},
        follow_redirects=False,
    )
    assert refused.headers["location"] == "/"


async def test_logout_from_another_site_keeps_the_session(lasuite: Api) -> None:
    await lasuite.sign_in("alice")
    out = await lasuite.request(
        "GET", f"{V1}/logout", user="alice", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False
    )
    assert out.status_code == 302
    assert (await lasuite.request("GET", f"{V1}/users/me", user="alice")).status_code == 200
