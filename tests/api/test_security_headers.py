"""Security headers on every response, and docs that load nothing from another site."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import Api


def assert_hardened(response: Any) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    for name in ("x-content-type-options", "referrer-policy", "x-frame-options", "content-security-policy"):
        assert len(response.headers.get_list(name)) == 1, name  # set once, whatever the handler set


async def test_every_answer_carries_the_security_headers_and_is_not_cached(api: Api) -> None:
    await api.sign_in("owner", email="owner@example.org")
    room = await api.create_room("owner", "Board", access_level="restricted")
    answers = [
        await api.request("GET", f"/api/v1/rooms/{room['id']}", user="owner"),  # a LiveKit token
        await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "G"}),  # a credential
        await api.request("GET", "/api/v1/users/me", user="owner"),  # personal data
        await api.request("GET", "/api/v1/rooms/no-such-room-at-all/accesses", user="owner"),  # an error
        await api.request("GET", "/api/v1/nowhere"),  # the router's own 404
        await api.request("PUT", "/api/v1/rooms"),  # the router's own 405
        await api.request("GET", "/healthz"),
        await api.request("GET", "/api/v1/docs/openapi.json"),
    ]
    assert answers[0].json()["livekit"]["token"]
    assert answers[1].json()["credential"]
    for answer in answers:
        assert_hardened(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url


async def test_the_docs_page_loads_only_its_own_assets_under_a_strict_policy(api: Api) -> None:
    page = await api.request("GET", "/api/v1/docs")
    assert page.status_code == 200
    assert_hardened(page)
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "<script>" not in page.text  # no inline script: every script is a file of ours
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/api/v1/docs/"), asset  # never a CDN
        served = await api.request("GET", asset)
        assert served.status_code == 200, asset
        assert served.content
        assert_hardened(served)
        assert served.headers.get_list("cache-control") == ["public, max-age=86400"], asset  # cacheable, once
    spec_url = re.search(r'data-spec-url="([^"]+)"', page.text)
    assert spec_url
    assert (await api.request("GET", spec_url.group(1))).json()["info"]["title"] == "meet"


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/rooms/{room}", "DELETE, GET, OPTIONS, PATCH"),
        ("/api/v1/rooms", "GET, OPTIONS, POST"),
        ("/api/v1/rooms/{room}/recordings", "OPTIONS, POST"),
    ],
)
async def test_options_lists_every_method_of_the_path(api: Api, path: str, methods: str) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board")
    response = await api.request("OPTIONS", path.format(room=room["id"]))
    assert response.status_code == 204
    assert response.headers["allow"] == methods
