"""Cross-site request forgery: a page on another site cannot use a signed-in browser's cookies."""

from __future__ import annotations

from typing import Any

import pytest

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.api.conftest import BASE_URL, Api
from tests.support.livekit_webhooks import signed_delivery

EVIL = "https://evil.example"
SIBLING = "https://evil.testserver.local"  # same site as the service, another origin
TRUSTED = "https://app.example.org"


def assert_refused(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "cross_site_request"


BODIES: list[dict[str, Any]] = [
    {"json": {"name": "Forged"}},
    {"content": b'{"name": "Forged"}', "headers": {"Content-Type": "text/plain"}},
    {"content": b"name=Forged", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
]


@pytest.mark.parametrize("body", BODIES, ids=["json", "text-plain", "form"])
@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": EVIL},
        {"Origin": SIBLING},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    ],
    ids=["foreign-origin", "sibling-subdomain", "null-origin", "fetch-cross-site", "fetch-same-site", "both"],
)
async def test_a_cookie_authenticated_unsafe_request_from_another_site_is_refused(
    api: Api, browser: dict[str, str], body: dict[str, Any]
) -> None:
    await api.sign_in("owner")
    headers = {**browser, **body.get("headers", {})}
    response = await api.request(
        "POST",
        "/api/v1/rooms",
        user="owner",
        headers=headers,
        **{key: value for key, value in body.items() if key != "headers"},
    )
    assert_refused(response)
    assert (await api.request("GET", "/api/v1/rooms", user="owner")).json()["count"] == 0


async def test_every_unsafe_method_is_covered(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board")
    evil = {"Origin": EVIL}
    rooms = f"/api/v1/rooms/{room['id']}"
    assert_refused(await api.request("PATCH", rooms, user="owner", json={"name": "Forged"}, headers=evil))
    assert_refused(await api.request("POST", f"{rooms}/waiting-participants/admit-all", user="owner", headers=evil))
    assert_refused(await api.request("DELETE", rooms, user="owner", headers=evil))
    assert_refused(await api.request("POST", "/api/v1/auth/logout", user="owner", headers=evil))
    assert (await api.request("GET", rooms, user="owner")).json()["name"] == "Board"


@pytest.mark.parametrize(
    "browser",
    [
        {},
        {"Origin": BASE_URL},
        {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin"},
    ],
    ids=["non-browser", "own-origin", "own-origin-fetch", "fetch-same-origin"],
)
async def test_the_service_own_pages_and_non_browser_clients_pass(api: Api, browser: dict[str, str]) -> None:
    await api.sign_in("owner")
    response = await api.request("POST", "/api/v1/rooms", user="owner", json={"name": "Board"}, headers=browser)
    assert response.status_code == 201, response.text


async def test_a_configured_trusted_origin_passes(api_with: Any) -> None:
    async with api_with(public_url=BASE_URL, trusted_origins=f"{TRUSTED}, https://other.example.org:8443") as api:
        await api.sign_in("owner")
        for origin in (TRUSTED, "https://other.example.org:8443", BASE_URL):
            response = await api.request(
                "POST", "/api/v1/rooms", user="owner", json={"name": origin[8:]}, headers={"Origin": origin}
            )
            assert response.status_code == 201, response.text
        refused = await api.request(
            "POST", "/api/v1/rooms", user="owner", json={"name": "x"}, headers={"Origin": "https://other.example.org"}
        )
        assert_refused(refused)


async def test_a_lobby_credential_cookie_is_protected_too(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board", access_level="restricted")
    knock = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Guest"})
    cookie = next(value for key, value in knock.cookies.items() if key.startswith("meet_lobby_"))
    forged = await api.request(
        "POST",
        f"/api/v1/rooms/{room['id']}/request-entry",
        json={},
        headers={"Cookie": f"meet_lobby_{room['id']}={cookie}", "Origin": EVIL},
    )
    assert_refused(forged)


async def test_a_cross_site_request_without_any_of_our_cookies_is_not_cookie_authenticated(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board", access_level="restricted")
    response = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Guest"}, headers={"Origin": EVIL}
    )
    assert response.status_code == 200, response.text


async def test_endpoints_authenticated_otherwise_are_unaffected(api: Api) -> None:
    """The LiveKit webhook and the storage hook prove their caller by a signature or a bearer token."""
    body, signature = signed_delivery({"event": "room_finished", "room": {"name": "anything"}})
    cross_site = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site", "Cookie": f"{SESSION_COOKIE}=whatever"}
    webhook = await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers={**cross_site, **signature})
    assert webhook.status_code == 200, webhook.text
    hook = await api.request("POST", "/api/v1/recordings/storage-hook", json={"Records": []}, headers=cross_site)
    assert hook.json()["error"] != "cross_site_request"


async def test_safe_methods_are_never_refused(api: Api) -> None:
    await api.sign_in("owner")
    response = await api.request("GET", "/api/v1/users/me", user="owner", headers={"Origin": EVIL})
    assert response.status_code == 200


async def test_cors_is_off_by_default_and_on_for_configured_origins(api_with: Any) -> None:
    preflight = {"Origin": TRUSTED, "Access-Control-Request-Method": "POST"}
    async with api_with() as api:
        response = await api.request("OPTIONS", "/api/v1/rooms", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    async with api_with(cors_origins=TRUSTED) as api:
        response = await api.request("OPTIONS", "/api/v1/rooms", headers=preflight)
        assert response.headers["access-control-allow-origin"] == TRUSTED
        assert response.headers["access-control-allow-credentials"] == "true"
        await api.sign_in("owner")
        created = await api.request(
            "POST", "/api/v1/rooms", user="owner", json={"name": "From the app"}, headers={"Origin": TRUSTED}
        )
        assert created.status_code == 201, created.text
        assert created.headers["access-control-allow-origin"] == TRUSTED
