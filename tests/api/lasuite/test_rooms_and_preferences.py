"""Rooms as the app creates, opens and changes them; preferences, and the defaults they give new rooms."""

from __future__ import annotations

from livekit.api import TokenVerifier

from tests.api.conftest import Api
from tests.api.lasuite.conftest import V1, create_room


def claims_of(token: str) -> dict[str, object]:
    verified = TokenVerifier("devkey", "secret").verify(token)
    return {"identity": verified.identity, "name": verified.name, "attributes": dict(verified.attributes or {})}


async def test_the_creator_connects_with_the_create_answer(lasuite: Api) -> None:
    await lasuite.sign_in("alice", full_name="Alice")
    room = await create_room(lasuite, "alice", "abc-defg-hij", username="Ali")
    assert room["slug"] == "abc-defg-hij"
    assert room["is_administrable"] is True
    assert room["access_level"] == "public"
    assert "accesses" in room
    livekit = room["livekit"]
    assert livekit["room"] == room["id"]
    assert livekit["url"] == "ws://localhost:7880"
    claims = claims_of(livekit["token"])
    assert claims["identity"] == "alice"
    assert claims["name"] == "Ali"
    assert claims["attributes"] == {
        "color": claims["attributes"]["color"],  # type: ignore[index]
        "room_role": "owner",
        "is_authenticated": "true",
    }


async def test_creating_a_room_needs_a_signed_in_user(lasuite: Api) -> None:
    response = await lasuite.request("POST", f"{V1}/rooms/?username=", json={"name": "abc-defg-hij"})
    assert response.status_code == 401
    assert "detail" in response.json()


async def test_a_room_opens_by_id_slug_and_sfu_room_name(lasuite: Api) -> None:
    await lasuite.sign_in("alice")
    room = await create_room(lasuite, "alice", "weekly-sync")
    for key in (room["id"], room["slug"], room["livekit"]["room"], "Weekly Sync"):
        opened = await lasuite.request("GET", f"{V1}/rooms/{key}/?username=Guest")
        assert opened.status_code == 200, (key, opened.text)
        body = opened.json()
        assert body["id"] == room["id"]
        assert body["is_administrable"] is False
        assert "accesses" not in body  # absent, not empty, for non-admins
        assert claims_of(body["livekit"]["token"])["name"] == "Guest"
    mine = (await lasuite.request("GET", f"{V1}/rooms/{room['slug']}/", user="alice")).json()
    assert mine["is_administrable"] is True
    assert [access["role"] for access in mine["accesses"]] == ["owner"]
    assert mine["configuration"] == {"can_publish_sources": None, "everyone_can_mute": None}


async def test_a_restricted_room_gives_outsiders_no_connection(lasuite: Api) -> None:
    await lasuite.sign_in("alice")
    room = await create_room(lasuite, "alice", "board")
    changed = await lasuite.request(
        "PATCH",
        f"{V1}/rooms/{room['id']}/",
        user="alice",
        json={"access_level": "restricted", "configuration": {"everyone_can_mute": True}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["access_level"] == "restricted"
    assert changed.json()["configuration"]["everyone_can_mute"] is True
    outsider = (await lasuite.request("GET", f"{V1}/rooms/board/?username=Zoe")).json()
    assert outsider["access_level"] == "restricted"
    assert "livekit" not in outsider
    assert "configuration" not in outsider
    refused = await lasuite.request("PATCH", f"{V1}/rooms/{room['id']}/", json={"access_level": "public"})
    assert refused.status_code == 401


async def test_an_unknown_room_and_bad_input_are_4xx_in_la_suites_shape(lasuite: Api) -> None:
    await lasuite.sign_in("alice")
    missing = await lasuite.request("GET", f"{V1}/rooms/00000000-0000-0000-0000-000000000001/")
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
    bad = await lasuite.request("PATCH", f"{V1}/rooms/whatever/", user="alice", json={"access_level": "secret"})
    assert bad.status_code in {400, 404}
    room = await create_room(lasuite, "alice", "daily")
    invalid = await lasuite.request("PATCH", f"{V1}/rooms/{room['id']}/", user="alice", json={"access_level": "secret"})
    assert invalid.status_code == 400
    assert "detail" in invalid.json()
    malformed = await lasuite.request(
        "POST",
        f"{V1}/rooms/?username=",
        user="alice",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400


async def test_a_temporary_room_is_answered_with_its_connection(lasuite: Api) -> None:
    opened = await lasuite.request("GET", f"{V1}/rooms/ad-hoc-room/?username=Zoe")
    assert opened.status_code == 200
    body = opened.json()
    assert body["id"] is None
    assert body["livekit"]["room"] == "ad-hoc-room"
    assert body["is_administrable"] is False


async def test_preferences_arrive_by_put_and_patch_and_defaults_shape_new_rooms(lasuite: Api) -> None:
    user = await lasuite.sign_in("alice")
    put = await lasuite.request(
        "PUT", f"{V1}/users/{user['id']}/", user="alice", json={"timezone": "Europe/Paris", "language": "fr-fr"}
    )
    assert put.status_code == 200, put.text
    assert (put.json()["timezone"], put.json()["language"]) == ("Europe/Paris", "fr-fr")
    patched = await lasuite.request(
        "PATCH",
        f"{V1}/users/{user['id']}/",
        user="alice",
        json={
            "default_room_access_level": "restricted",
            "default_room_configuration": {"can_publish_sources": ["microphone"], "everyone_can_mute": False},
        },
    )
    assert patched.status_code == 200, patched.text
    me = (await lasuite.request("GET", f"{V1}/users/me", user="alice")).json()
    assert me["language"] == "fr-fr"
    assert me["default_room_access_level"] == "restricted"
    assert me["default_room_configuration"] == {"can_publish_sources": ["microphone"], "everyone_can_mute": False}

    # Both surfaces create rooms with the user's defaults.
    lasuite_room = await create_room(lasuite, "alice", "from-lasuite")
    own = await lasuite.request("POST", "/api/v1/rooms", user="alice", json={"name": "from-meet"})
    for room, capacity in ((lasuite_room, {}), (own.json(), {"max_participants": None})):  # meet's own has it
        assert room["access_level"] == "restricted"
        assert room["configuration"] == {"can_publish_sources": ["microphone"], "everyone_can_mute": False, **capacity}
    explicit = await lasuite.request(
        "POST", "/api/v1/rooms", user="alice", json={"name": "open", "access_level": "public"}
    )
    assert explicit.json()["access_level"] == "public"

    # meet's own API reads and changes the same preferences.
    own_me = (await lasuite.request("GET", "/api/v1/users/me", user="alice")).json()
    assert own_me["timezone"] == "Europe/Paris"
    cleared = await lasuite.request("PATCH", "/api/v1/users/me", user="alice", json={"default_room_access_level": None})
    assert cleared.status_code == 200
    assert cleared.json()["default_room_access_level"] is None


async def test_preferences_are_ones_own_and_validated(lasuite: Api) -> None:
    alice = await lasuite.sign_in("alice")
    bob = await lasuite.sign_in("bob")
    other = await lasuite.request("PUT", f"{V1}/users/{bob['id']}/", user="alice", json={"language": "en-us"})
    assert other.status_code == 403
    anonymous = await lasuite.request("PUT", f"{V1}/users/{alice['id']}/", json={"language": "en-us"})
    assert anonymous.status_code == 401
    bad_zone = await lasuite.request("PUT", f"{V1}/users/{alice['id']}/", user="alice", json={"timezone": "Mars/Base"})
    assert bad_zone.status_code == 400
    assert "timezone" in bad_zone.json()
    bad_language = await lasuite.request("PATCH", f"{V1}/users/{alice['id']}/", user="alice", json={"language": "<b>"})
    assert bad_language.status_code == 400
    bad_level = await lasuite.request(
        "PATCH", f"{V1}/users/{alice['id']}/", user="alice", json={"default_room_access_level": "secret"}
    )
    assert bad_level.status_code == 400
    not_an_id = await lasuite.request("PATCH", f"{V1}/users/not-an-id/", user="alice", json={})
    assert not_an_id.status_code in {400, 404}
