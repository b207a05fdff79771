"""Input that used to reach a 500: each is now a 4xx in the one error shape, naming the problem."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit.api import TokenVerifier

from tests.api.conftest import Api

JSON = {"Content-Type": "application/json"}
TOO_BIG = "9223372036854775808"  # 2**63: past every integer column


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert set(body) <= {"status", "error", "detail", "fields"}
    assert (body["status"], body["error"]) == (status, code), body
    assert body["detail"]
    return body


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    return {"database_url": str(request.getfixturevalue("fresh_postgres_database"))}


@pytest.fixture
async def hostile(api_with: Any, database: dict[str, str]) -> AsyncIterator[tuple[Api, dict[str, Any]]]:
    """An API on each database (PostgreSQL refuses NUL in text, SQLite integers past 2**63)."""
    async with api_with(**database) as api:
        await api.sign_in("owner", email="owner@example.org")
        room = await api.create_room("owner", "Board")
        yield api, room


@pytest.mark.parametrize("path", ["/api/v1/rooms", "/api/v1/recordings"])
async def test_an_offset_past_any_integer_is_a_422_naming_it(hostile: tuple[Api, Any], path: str) -> None:
    api, _ = hostile
    body = assert_error(await api.request("GET", f"{path}?offset={TOO_BIG}", user="owner"), 422, "invalid_input")
    assert "offset" in body["fields"]
    assert (await api.request("GET", f"{path}?offset=2147483647", user="owner")).status_code == 200


async def test_a_body_nested_a_thousand_deep_is_a_400(hostile: tuple[Api, Any]) -> None:
    api, room = hostile
    nested = b"[" * 1000 + b"]" * 1000
    response = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", content=nested, headers=JSON)
    assert "nests deeper" in assert_error(response, 400, "malformed_body")["detail"]
    # Nesting inside strings is only text.
    fine = b'{"username": "' + b"[" * 1000 + b'"}'
    response = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", content=fine, headers=JSON)
    assert response.status_code == 422  # too long a name, not a parser failure


async def test_invalid_utf8_in_a_body_is_a_400(hostile: tuple[Api, Any]) -> None:
    api, room = hostile
    response = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/request-entry", content=b'{"username": "\xff\xfe"}', headers=JSON
    )
    assert "UTF-8" in assert_error(response, 400, "malformed_body")["detail"]


async def test_a_body_over_the_size_limit_is_a_413(hostile: tuple[Api, Any]) -> None:
    api, _ = hostile
    huge = b'{"name": "' + b"a" * (1024 * 1024) + b'"}'
    assert_error(
        await api.request("POST", "/api/v1/rooms", user="owner", content=huge, headers=JSON), 413, "payload_too_large"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/rooms", {"name": "a\x00b"}),
        ("PATCH", "/api/v1/rooms/{room}", {"name": "a\x00b"}),
        ("POST", "/api/v1/rooms/{room}/accesses", {"email": "a\x00@example.org", "role": "member"}),
    ],
)
async def test_a_nul_character_in_text_is_a_422(
    hostile: tuple[Api, Any], method: str, path: str, body: dict[str, str]
) -> None:
    api, room = hostile
    response = await api.request(method, path.format(room=room["id"]), user="owner", json=body)
    assert "NUL" in assert_error(response, 422, "invalid_input")["detail"]
    rooms = (await api.request("GET", "/api/v1/rooms", user="owner")).json()["results"]
    assert [r["name"] for r in rooms] == ["Board"]


async def test_a_nul_character_in_the_url_is_a_422(hostile: tuple[Api, Any]) -> None:
    api, room = hostile
    assert_error(await api.request("GET", f"/api/v1/rooms/{room['id']}?username=a%00b"), 422, "invalid_input")
    assert_error(await api.request("GET", "/api/v1/rooms/a%00b"), 422, "invalid_input")


async def test_a_slug_longer_than_any_room_name_gets_no_temporary_room(api: Api) -> None:
    response = await api.request("GET", "/api/v1/rooms/" + "a" * 60_000)
    assert_error(response, 404, "room_not_found")
    assert "livekit" not in response.text
    assert_error(await api.request("GET", "/api/v1/rooms/" + "a" * 501), 404, "room_not_found")
    longest = await api.request("GET", "/api/v1/rooms/" + "a" * 500)
    assert longest.status_code == 200
    assert longest.json()["livekit"]["token"]


async def test_display_names_are_stripped_of_control_and_bidirectional_characters(api: Api) -> None:
    await api.sign_in("owner")
    public = await api.create_room("owner", "Town hall")
    restricted = await api.create_room("owner", "Board", access_level="restricted")
    joined = await api.request("GET", f"/api/v1/rooms/{public['id']}", params={"username": "Eve\u202egnp.exe\x07"})
    token = joined.json()["livekit"]["token"]
    claims = TokenVerifier(api.settings.livekit_api_key, api.settings.livekit_api_secret).verify(token)
    assert claims.name == "Evegnp.exe"
    knock = await api.request(
        "POST", f"/api/v1/rooms/{restricted['id']}/request-entry", json={"username": "\u2066Mallory\u2069\n"}
    )
    assert knock.json()["username"] == "Mallory"
    waiting = await api.request("GET", f"/api/v1/rooms/{restricted['id']}/waiting-participants", user="owner")
    assert [p["username"] for p in waiting.json()["participants"]] == ["Mallory"]
    nul = await api.request("POST", f"/api/v1/rooms/{restricted['id']}/request-entry", json={"username": "a\x00"})
    assert_error(nul, 422, "invalid_input")
