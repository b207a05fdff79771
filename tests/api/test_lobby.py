"""The lobby over HTTP, on the embedded (memory) default, on a real Redis and on a real Redis Cluster."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from livekit.api import TokenVerifier

from tests.api.conftest import Api
from tests.support.livekit_webhooks import signed_delivery
from tests.support.redis_settings import STORES, fresh_stores

KNOCKER_NAME = "Zoe"


@pytest.fixture(params=STORES)
async def lobby_api(request: pytest.FixtureRequest, api_with: Any) -> AsyncIterator[Api]:
    overrides = await fresh_stores(request, request.param)
    async with api_with(**overrides) as api:
        await api.sign_in("owner")
        await api.sign_in("stranger")
        yield api


async def restricted_room(api: Api, name: str = "Board") -> dict[str, Any]:
    return await api.create_room("owner", name, access_level="restricted")


async def knock(api: Api, room: dict[str, Any], credential: str | None = None, **body: Any) -> dict[str, Any]:
    headers = {"X-Lobby-Credential": credential} if credential else {}
    response = await api.request(
        "POST", f"/api/v1/rooms/{room['slug']}/request-entry", json=body or {"username": KNOCKER_NAME}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def waiting(api: Api, room: dict[str, Any], user: str = "owner", **params: Any) -> dict[str, Any]:
    response = await api.request("GET", f"/api/v1/rooms/{room['id']}/waiting-participants", user=user, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def decide(api: Api, room: dict[str, Any], participant_id: str, allow: bool, user: str = "owner") -> Any:
    return await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/waiting-participants/{participant_id}", user=user, json={"allow": allow}
    )


async def test_a_knock_waits_and_gets_its_credential_as_cookie_and_in_the_body(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    response = await lobby_api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Zoe"})
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "waiting"
    assert body["livekit"] is None
    assert body["username"] == "Zoe"
    assert body["color"].startswith("hsl(")
    uuid.UUID(body["id"], version=4)
    cookie = response.headers["set-cookie"]
    assert body["credential"] in cookie
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax"):
        assert attribute.lower() in cookie.lower()


async def test_polls_with_the_cookie_or_the_header_are_the_same_participant(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    first = await lobby_api.request("POST", f"/api/v1/rooms/{room['slug']}/request-entry", json={"username": "Zoe"})
    cookie_header = first.headers["set-cookie"].split(";", 1)[0]
    by_cookie = await lobby_api.request(
        "POST", f"/api/v1/rooms/{room['slug']}/request-entry", headers={"Cookie": cookie_header}
    )
    by_header = await knock(lobby_api, room, first.json()["credential"])
    assert by_cookie.json()["id"] == by_header["id"] == first.json()["id"]
    assert (await waiting(lobby_api, room))["count"] == 1


async def test_a_forged_credential_never_yields_someone_elses_entry(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    victim = await knock(lobby_api, room)
    await decide(lobby_api, room, victim["id"], True)
    forged = await knock(lobby_api, room, f"{victim['id']}.{'A' * 43}")
    other_room = await restricted_room(lobby_api, "Other")
    foreign = await knock(lobby_api, other_room, victim["credential"])
    assert forged["id"] != victim["id"]
    assert forged["livekit"] is None
    assert foreign["id"] != victim["id"]


async def test_an_admitted_participant_gets_a_token_for_its_own_identity(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    knocked = await knock(lobby_api, room)
    listed = await waiting(lobby_api, room)
    assert [p["id"] for p in listed["participants"]] == [knocked["id"]]
    decision = await decide(lobby_api, room, knocked["id"], True)
    assert decision.status_code == 200
    assert decision.json()["status"] == "accepted"
    admitted = await knock(lobby_api, room, knocked["credential"])
    assert admitted["status"] == "accepted"
    claims = TokenVerifier("devkey", "secret").verify(admitted["livekit"]["token"])
    assert claims.identity == knocked["id"]
    assert claims.name == KNOCKER_NAME
    assert claims.attributes == {"color": knocked["color"], "room_role": "", "is_authenticated": "false"}
    assert claims.video is not None
    assert claims.video.room == room["id"]
    assert not claims.video.room_admin
    assert (await waiting(lobby_api, room))["count"] == 0


async def test_a_denied_participant_gets_no_token_and_cannot_re_knock(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    knocked = await knock(lobby_api, room)
    assert (await decide(lobby_api, room, knocked["id"], False)).json()["status"] == "denied"
    again = await knock(lobby_api, room, knocked["credential"])
    assert again["status"] == "denied"
    assert again["livekit"] is None
    assert (await waiting(lobby_api, room))["count"] == 0


async def test_whom_the_policy_lets_in_is_accepted_at_once_and_nothing_waits(lobby_api: Api) -> None:
    public = await lobby_api.create_room("owner", "Town hall")
    direct = await knock(lobby_api, public)
    assert direct["status"] == "accepted"
    assert TokenVerifier("devkey", "secret").verify(direct["livekit"]["token"]).identity == direct["id"]
    assert (await waiting(lobby_api, public))["count"] == 0
    room = await restricted_room(lobby_api)
    member_view = await lobby_api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", user="owner", json={})
    assert member_view.json()["status"] == "accepted"
    assert TokenVerifier("devkey", "secret").verify(member_view.json()["livekit"]["token"]).identity == "owner"


async def test_the_waiting_list_pages_in_arrival_order(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    ids = [(await knock(lobby_api, room, username=f"P{i}"))["id"] for i in range(5)]
    first = await waiting(lobby_api, room, limit=2)
    second = await waiting(lobby_api, room, limit=2, cursor=first["next"])
    third = await waiting(lobby_api, room, limit=2, cursor=second["next"])
    assert [p["id"] for page in (first, second, third) for p in page["participants"]] == ids
    assert first["count"] == 5
    assert third["next"] is None
    bad = await lobby_api.request(
        "GET", f"/api/v1/rooms/{room['id']}/waiting-participants", user="owner", params={"limit": 0}
    )
    assert bad.status_code in {400, 422}
    assert "limit" in bad.text


async def test_only_the_rooms_admins_see_and_decide(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    knocked = await knock(lobby_api, room)
    paths = [
        ("GET", f"/api/v1/rooms/{room['id']}/waiting-participants", None),
        ("POST", f"/api/v1/rooms/{room['id']}/waiting-participants/{knocked['id']}", {"allow": True}),
        ("POST", f"/api/v1/rooms/{room['id']}/waiting-participants/admit-all", None),
        ("GET", f"/api/v1/rooms/{room['id']}/waiting-participants/events", None),
    ]
    for method, path, body in paths:
        assert (await lobby_api.request(method, path, json=body)).status_code == 401, path
        assert (await lobby_api.request(method, path, user="stranger", json=body)).status_code == 403, path
    assert (await knock(lobby_api, room, knocked["credential"]))["status"] == "waiting"


async def test_deciding_on_an_unknown_participant_is_404_and_a_bad_body_422(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    assert (await decide(lobby_api, room, str(uuid.uuid4()), True)).status_code == 404
    assert (await decide(lobby_api, room, "not-a-participant", True)).status_code == 404
    knocked = await knock(lobby_api, room)
    bad = await lobby_api.request(
        "POST",
        f"/api/v1/rooms/{room['id']}/waiting-participants/{knocked['id']}",
        user="owner",
        json={"allow": "yes please"},
    )
    assert bad.status_code == 422
    assert "allow" in bad.json()["fields"]


async def test_two_admins_deciding_at_once_record_one_decision_and_both_answers_tell_it(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    await lobby_api.grant("owner", room["id"], "admin2", "administrator")
    for _ in range(3):
        knocked = await knock(lobby_api, room)
        answers = await asyncio.gather(
            decide(lobby_api, room, knocked["id"], True, user="owner"),
            decide(lobby_api, room, knocked["id"], False, user="admin2"),
        )
        final = (await knock(lobby_api, room, knocked["credential"]))["status"]
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [200, 409]
        winner = next(a for a in answers if a.status_code == 200)
        loser = next(a for a in answers if a.status_code == 409)
        assert winner.json()["status"] == final
        assert final in loser.json()["detail"]


async def test_admit_all_admits_everyone_waiting(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    knocks = [await knock(lobby_api, room, username=f"P{i}") for i in range(4)]
    response = await lobby_api.request(
        "POST", f"/api/v1/rooms/{room['id']}/waiting-participants/admit-all", user="owner"
    )
    assert response.json() == {"admitted": 4}
    for knocked in knocks:
        assert (await knock(lobby_api, room, knocked["credential"]))["livekit"] is not None


async def test_an_admin_whose_role_was_withdrawn_can_no_longer_admit_everyone(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    access = await lobby_api.grant("owner", room["id"], "admin2", "administrator")
    admit_all = f"/api/v1/rooms/{room['id']}/waiting-participants/admit-all"
    assert (await lobby_api.request("POST", admit_all, user="admin2")).json() == {"admitted": 0}  # the role is known
    withdrawn = await lobby_api.request("DELETE", f"/api/v1/rooms/{room['id']}/accesses/{access['id']}", user="owner")
    assert withdrawn.status_code == 204
    knocked = await knock(lobby_api, room)
    assert (await lobby_api.request("POST", admit_all, user="admin2")).status_code == 403
    assert (await knock(lobby_api, room, knocked["credential"]))["status"] == "waiting"


async def test_knocks_beyond_the_limit_get_429_with_retry_after(api_with: Any) -> None:
    async with api_with(lobby_knocks_per_minute="2", lobby_new_participants_per_minute_per_address="3") as api:
        await api.sign_in("owner")
        room = await restricted_room(api)
        first = await knock(api, room)
        await knock(api, room, first["credential"])
        await knock(api, room, first["credential"])
        limited = await api.request(
            "POST", f"/api/v1/rooms/{room['id']}/request-entry", headers={"X-Lobby-Credential": first["credential"]}
        )
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        await knock(api, room)
        await knock(api, room)
        new_limited = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={})
        assert new_limited.status_code == 429
        assert (await waiting(api, room))["count"] == 3


async def webhook(api: Api, event: dict[str, Any], **signing: Any) -> Any:
    body, headers = signed_delivery(event, **signing)
    return await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)


async def test_room_finished_clears_the_lobby_once_per_event(lobby_api: Api) -> None:
    room = await restricted_room(lobby_api)
    await knock(lobby_api, room)
    await knock(lobby_api, room)
    event = {"id": f"EV_{uuid.uuid4().hex}", "event": "room_finished", "room": {"name": room["id"]}}
    response = await webhook(lobby_api, event)
    assert response.status_code == 200
    assert (await waiting(lobby_api, room))["count"] == 0
    await knock(lobby_api, room)
    redelivered = await webhook(lobby_api, event)
    assert redelivered.status_code == 200
    assert (await waiting(lobby_api, room))["count"] == 1


async def test_webhooks_are_verified_and_unknown_rooms_acknowledged(lobby_api: Api) -> None:
    event = {"event": "room_finished", "room": {"name": "no-such-room"}}
    assert (await webhook(lobby_api, event)).status_code == 200
    assert (await webhook(lobby_api, {"event": "participant_joined", "room": {"name": "x"}})).status_code == 200
    assert (await webhook(lobby_api, event, api_secret="not-the-secret")).status_code == 401
    body, headers = signed_delivery(event)
    unsigned = await lobby_api.request(
        "POST", "/api/v1/webhooks/livekit", content=body, headers={"Content-Type": headers["Content-Type"]}
    )
    assert unsigned.status_code == 401
    tampered = await lobby_api.request(
        "POST", "/api/v1/webhooks/livekit", content=body.replace(b"no-such", b"another"), headers=headers
    )
    assert tampered.status_code == 401
    garbage, garbage_headers = signed_delivery({}, body=b"{not json")
    malformed = await lobby_api.request("POST", "/api/v1/webhooks/livekit", content=garbage, headers=garbage_headers)
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "malformed_webhook"
