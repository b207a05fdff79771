from __future__ import annotations

import pytest

from tests.api.conftest import Api

UUID = "123e4567-e89b-12d3-a456-426614174000"


async def test_creating_a_room_makes_the_caller_owner(api: Api) -> None:
    await api.sign_in("alice")
    room = await api.create_room("alice", "Réunion d'équipe", access_level="trusted")
    assert room["slug"] == "reunion-d-equipe"
    assert room["role"] == "owner"
    assert room["is_administrable"] is True
    accesses = (await api.request("GET", f"/api/v1/rooms/{room['id']}/accesses", user="alice")).json()
    assert [(a["role"]) for a in accesses] == ["owner"]


async def test_anonymous_cannot_create_rooms(api: Api) -> None:
    response = await api.request("POST", "/api/v1/rooms", json={"name": "Daily"})
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_required"


async def test_a_duplicate_slug_is_a_409_naming_the_slug(api: Api) -> None:
    await api.sign_in("alice")
    await api.create_room("alice", "Daily")
    response = await api.request("POST", "/api/v1/rooms", user="alice", json={"name": "daily!!"})
    assert response.status_code == 409
    assert "slug" in response.json()["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": UUID}, "name"),
        ({"name": "x", "configuration": {"everyone_can_mute": True, "hidden": True}}, "configuration"),
        ({"name": "x", "configuration": {"can_publish_sources": ["camera", "satellite"]}}, "configuration"),
        ({"name": "x", "access_level": "secret"}, "access_level"),
        ({"name": ""}, "name"),
        ({"nom": "x"}, "body"),
    ],
)
async def test_bad_room_input_is_a_422_naming_the_field(api: Api, body: dict[str, object], field: str) -> None:
    await api.sign_in("alice")
    response = await api.request("POST", "/api/v1/rooms", user="alice", json=body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["error"] == "invalid_input"
    assert any(key.startswith(field) or field == "body" for key in error["fields"]), error


async def test_malformed_json_is_a_400(api: Api) -> None:
    await api.sign_in("alice")
    response = await api.request(
        "POST", "/api/v1/rooms", user="alice", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["status"] == 400


async def test_rooms_list_only_mine_and_paginates(api: Api) -> None:
    await api.sign_in("alice")
    await api.sign_in("bob")
    for n in range(3):
        await api.create_room("alice", f"Alice {n}")
    await api.create_room("bob", "Bob's")
    page = (await api.request("GET", "/api/v1/rooms?limit=2", user="alice")).json()
    assert page["count"] == 3
    assert len(page["results"]) == 2
    rest = (await api.request("GET", "/api/v1/rooms?limit=2&offset=2", user="alice")).json()
    names = {r["name"] for r in page["results"] + rest["results"]}
    assert names == {"Alice 0", "Alice 1", "Alice 2"}
    assert (await api.request("GET", "/api/v1/rooms")).status_code == 401


@pytest.mark.parametrize(("role", "status"), [("owner", 200), ("administrator", 200), ("member", 403)])
async def test_update_needs_admin(api: Api, role: str, status: int) -> None:
    await api.sign_in("alice")
    room = await api.create_room("alice", "Daily")
    if role != "owner":
        await api.grant("alice", room["id"], "bob", role)
    user = "alice" if role == "owner" else "bob"
    response = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", user=user, json={"access_level": "restricted", "name": "Weekly"}
    )
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["slug"] == "weekly"
        assert response.json()["access_level"] == "restricted"


@pytest.mark.parametrize(("role", "status"), [("owner", 204), ("administrator", 403), ("member", 403)])
async def test_delete_is_owner_only(api: Api, role: str, status: int) -> None:
    await api.sign_in("alice")
    room = await api.create_room("alice", "Daily")
    user = "alice"
    if role != "owner":
        await api.grant("alice", room["id"], "bob", role)
        user = "bob"
    response = await api.request("DELETE", f"/api/v1/rooms/{room['id']}", user=user)
    assert response.status_code == status
    still_there = (await api.request("GET", f"/api/v1/rooms/{room['id']}")).status_code == 200
    assert still_there is (status != 204)


async def test_a_slug_lookup_slugifies_the_path(api: Api) -> None:
    await api.sign_in("alice")
    room = await api.create_room("alice", "Réunion")
    response = await api.request("GET", "/api/v1/rooms/Réunion")
    assert response.status_code == 200
    assert response.json()["id"] == room["id"]


async def test_outsiders_see_no_configuration_and_no_token_in_a_restricted_room(api: Api) -> None:
    await api.sign_in("alice")
    await api.sign_in("mallory")
    await api.create_room(
        "alice", "Board", access_level="restricted", configuration={"can_publish_sources": ["microphone"]}
    )
    seen = (await api.request("GET", "/api/v1/rooms/board", user="mallory")).json()
    assert set(seen) == {"id", "name", "slug", "access_level", "is_administrable"}
    assert seen["is_administrable"] is False


async def test_an_unknown_slug_is_a_temporary_public_room(api: Api) -> None:
    first = (await api.request("GET", "/api/v1/rooms/Coffee Break?username=Zoé")).json()
    second = (await api.request("GET", "/api/v1/rooms/coffee-break")).json()
    assert first["id"] is None
    assert first["access_level"] == "public"
    assert first["is_administrable"] is False
    assert first["livekit"]["room"] == second["livekit"]["room"] == "coffee-break"


async def test_an_unknown_uuid_is_404(api: Api) -> None:
    response = await api.request("GET", f"/api/v1/rooms/{UUID}")
    assert response.status_code == 404
    assert response.json()["error"] == "room_not_found"


async def test_temporary_rooms_switched_off_are_404(api_with) -> None:  # type: ignore[no-untyped-def]
    async with api_with(allow_temporary_rooms="false") as api:
        response = await api.request("GET", "/api/v1/rooms/coffee-break")
        assert response.status_code == 404
        assert (await api.request("GET", "/api/v1/config")).json()["features"]["temporary_rooms"] is False
