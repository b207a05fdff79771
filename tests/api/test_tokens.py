"""Every token the API issues, decoded with livekit-api's TokenVerifier: grants follow role and room."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from livekit.api import TokenVerifier

from meet.domain.shared.text import color_for
from tests.api.conftest import Api

ALL_SOURCES = ["camera", "microphone", "screen_share", "screen_share_audio"]
SERVER_WIDE_OR_FORBIDDEN = {"roomCreate", "roomList", "roomRecord", "hidden", "recorder", "agent", "ingressAdmin"}
ROLES = ["owner", "administrator", "member", "stranger", "anonymous"]
LEVELS = ["public", "trusted", "restricted"]
DIRECT = {
    "public": set(ROLES),
    "trusted": {"owner", "administrator", "member", "stranger"},
    "restricted": {"owner", "administrator", "member"},
}
CONFIGURATIONS: dict[str, dict[str, Any] | None] = {
    "null": None,
    "default-sources": {"can_publish_sources": None},
    "empty": {"can_publish_sources": []},
    "partial": {"can_publish_sources": ["microphone", "screen_share"]},
}


def verify(api: Api, token: str) -> tuple[Any, dict[str, Any]]:
    claims = TokenVerifier(api.settings.livekit_api_key, api.settings.livekit_api_secret).verify(token)
    raw = jwt.decode(token, options={"verify_signature": False})
    return claims, raw


async def open_as(api: Api, room: dict[str, Any], who: str, username: str | None = None) -> dict[str, Any]:
    url = f"/api/v1/rooms/{room['slug']}" + (f"?username={username}" if username else "")
    response = await api.request("GET", url, user=None if who == "anonymous" else who)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("configuration", list(CONFIGURATIONS))
@pytest.mark.parametrize("level", LEVELS)
async def test_grants_follow_role_level_and_configuration(api: Api, level: str, configuration: str) -> None:
    await api.sign_in("owner", full_name="Olive Owner")
    body: dict[str, Any] = {"access_level": level}
    if CONFIGURATIONS[configuration] is not None:
        body["configuration"] = CONFIGURATIONS[configuration]
    room = await api.create_room("owner", f"Room {level} {configuration}", **body)
    await api.grant("owner", room["id"], "administrator", "administrator")
    await api.grant("owner", room["id"], "member", "member")
    await api.sign_in("stranger")
    member_sources = ALL_SOURCES
    if CONFIGURATIONS[configuration] and CONFIGURATIONS[configuration]["can_publish_sources"] is not None:  # type: ignore[index]
        member_sources = CONFIGURATIONS[configuration]["can_publish_sources"]  # type: ignore[index]

    for who in ROLES:
        opened = await open_as(api, room, who)
        if who not in DIRECT[level]:
            assert "livekit" not in opened, who
            continue
        connection = opened["livekit"]
        assert connection["url"] == api.settings.livekit_url
        assert connection["room"] == room["id"]
        claims, raw = verify(api, connection["token"])
        video = raw["video"]
        assert video["roomJoin"] is True
        assert video["room"] == room["id"]
        assert not SERVER_WIDE_OR_FORBIDDEN & set(video), (who, video)
        assert video["canUpdateOwnMetadata"] is False
        assert video["canSubscribe"] is True
        assert video["canPublishData"] is True
        is_admin = who in {"owner", "administrator"}
        assert bool(video.get("roomAdmin")) is is_admin, who
        expected_sources = ALL_SOURCES if is_admin else member_sources
        assert sorted(video.get("canPublishSources", [])) == sorted(expected_sources), who
        # An empty source list means "everything" to LiveKit: "may not publish" must be explicit.
        assert video["canPublish"] is bool(expected_sources), who
        assert claims.video.can_publish is bool(expected_sources)
        signed_in = who != "anonymous"
        assert claims.attributes["is_authenticated"] == ("true" if signed_in else "false")
        assert claims.attributes["room_role"] == (who if who in {"owner", "administrator", "member"} else "")
        assert claims.attributes["color"] == color_for(claims.identity)
        if signed_in:
            assert claims.identity == who
        else:
            assert len(claims.identity) == 36


async def test_identity_name_and_ttl(api: Api) -> None:
    await api.sign_in("alice", full_name="Alice Liddell")
    room = await api.create_room("alice", "Tea")
    claims, raw = verify(api, (await open_as(api, room, "alice"))["livekit"]["token"])
    assert claims.identity == "alice"
    assert claims.name == "Alice Liddell"
    assert raw["exp"] - raw["nbf"] == api.settings.token_ttl_seconds
    claims, _ = verify(api, (await open_as(api, room, "alice", username="Hatter"))["livekit"]["token"])
    assert claims.name == "Hatter"
    claims, _ = verify(api, (await open_as(api, room, "anonymous"))["livekit"]["token"])
    assert claims.name == "Anonymous"


async def test_anonymous_joins_get_a_fresh_identity_each_time(api: Api) -> None:
    first = (await api.request("GET", "/api/v1/rooms/coffee")).json()["livekit"]["token"]
    second = (await api.request("GET", "/api/v1/rooms/coffee")).json()["livekit"]["token"]
    assert verify(api, first)[0].identity != verify(api, second)[0].identity


async def test_nobody_is_admin_of_a_temporary_room(api: Api) -> None:
    await api.sign_in("alice")
    opened = (await api.request("GET", "/api/v1/rooms/coffee", user="alice")).json()
    claims, raw = verify(api, opened["livekit"]["token"])
    assert not raw["video"].get("roomAdmin")
    assert claims.attributes["room_role"] == ""
    assert raw["video"]["room"] == "coffee"


async def test_ttl_is_a_setting(api_with) -> None:  # type: ignore[no-untyped-def]
    async with api_with(token_ttl_seconds="120") as api:
        token = (await api.request("GET", "/api/v1/rooms/coffee")).json()["livekit"]["token"]
        _, raw = verify(api, token)
        assert raw["exp"] - raw["nbf"] == 120


async def test_a_changed_access_level_applies_at_once(api: Api) -> None:
    await api.sign_in("alice")
    await api.sign_in("bob")
    room = await api.create_room("alice", "Daily")
    assert "livekit" in await open_as(api, room, "bob")
    await api.request("PATCH", f"/api/v1/rooms/{room['id']}", user="alice", json={"access_level": "restricted"})
    assert "livekit" not in await open_as(api, room, "bob")
