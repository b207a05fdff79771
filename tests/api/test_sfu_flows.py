"""Join, lobby and moderation end to end, once per SFU: LiveKit (the wire-level double) and Janus (real).

A stage puts a participant into the live room with the connection the API answered, the way that SFU
sees one (LiveKit: the double is told who joined, with the name and attributes of the token; Janus: a
real client creates a session, attaches VideoRoom and joins), and brings the SFU's events back to the
API's webhook (LiveKit: signed deliveries; Janus: exactly what Janus's event handler posted).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from tests.api.conftest import Api
from tests.support.janus import Janus, meet_settings, until
from tests.support.janus_client import JanusParticipant
from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery

SFUS = ["livekit", "janus"]


@dataclass
class Stage:
    provider: str
    settings: dict[str, str]
    enter: Callable[[dict[str, Any]], Awaitable[Any]]
    present: Callable[[str], Awaitable[set[str]]]
    deliver: Callable[[Api], Awaitable[None]]
    publish: Callable[[Any], Awaitable[None]]
    cleanup: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)


def livekit_stage(livekit: LiveKitServer) -> Stage:
    joined: list[tuple[str, str]] = []

    async def enter(connection: dict[str, Any]) -> dict[str, Any]:
        """LiveKit takes the name and attributes from the token; the double is told so."""
        claims = jwt.decode(connection["token"], options={"verify_signature": False})
        joining = {"room": connection["room"], "identity": connection["identity"], "name": claims["name"]}
        joining["attributes"] = claims["attributes"]
        livekit.add_participant(
            joining["room"], joining["identity"], name=joining["name"], attributes=joining["attributes"]
        )
        joined.append((connection["room"], connection["identity"]))
        return joining

    async def present(room: str) -> set[str]:
        return {p.identity for p in livekit.participants(room)}

    async def deliver(api: Api) -> None:
        while joined:
            room, identity = joined.pop(0)
            event = {"event": "participant_joined", "room": {"name": room}, "participant": {"identity": identity}}
            body, headers = signed_delivery(event)
            response = await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)
            assert response.status_code == 200, response.text

    async def publish(joining: Any) -> None:
        livekit.add_participant(
            joining["room"],
            joining["identity"],
            name=joining["name"],
            attributes=joining["attributes"],
            tracks=(("TR_MIC", "microphone"), ("TR_CAM", "camera")),
        )

    return Stage("livekit", {"livekit_url": livekit.url}, enter, present, deliver, publish)


def janus_stage(janus: Janus, http: httpx.AsyncClient) -> Stage:
    seen = len(janus.events.bodies())
    clients: list[JanusParticipant] = []

    async def enter(connection: dict[str, Any]) -> JanusParticipant:
        client = JanusParticipant(url=connection["url"], token=connection["token"], http=http)
        clients.append(client)
        await client.connect(opaque_id=connection["token"])
        await client.join(connection["room"], connection["identity"], join_token=connection["join_token"])
        return client

    async def present(room: str) -> set[str]:
        async with httpx.AsyncClient(trust_env=False) as admin:
            answer = (
                await admin.post(
                    janus.admin_url,
                    json={
                        "janus": "message_plugin",
                        "transaction": "t",
                        "admin_secret": janus.admin_secret,
                        "plugin": "janus.plugin.videoroom",
                        "request": {"request": "listparticipants", "room": room},
                    },
                )
            ).json()
        return {str(p["id"]) for p in answer.get("response", {}).get("participants", [])}

    async def deliver(api: Api) -> None:
        """Everything Janus posted since the last delivery, as it posted it."""
        nonlocal seen
        bodies = janus.events.bodies()
        for body in bodies[seen:]:
            headers = {"Authorization": janus.events.expected_authorization(), "Content-Type": "application/json"}
            response = await api.request("POST", "/api/v1/webhooks/janus", content=body, headers=headers)
            assert response.status_code == 200, response.text
        seen = len(bodies)

    async def publish(client: Any) -> None:
        await client.publish()

    async def close() -> None:
        for client in clients:
            await client.close()

    settings = meet_settings(janus)
    return Stage("janus", settings, enter, present, deliver, publish, [close])


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture(params=SFUS)
async def stage(
    request: pytest.FixtureRequest, livekit: LiveKitServer, janus: Janus, http: httpx.AsyncClient
) -> AsyncIterator[Stage]:
    made = livekit_stage(livekit) if request.param == "livekit" else janus_stage(janus, http)
    yield made
    for cleanup in made.cleanup:
        await cleanup()


@pytest.fixture
async def meeting(api_with: Any, stage: Stage) -> AsyncIterator[tuple[Api, dict[str, Any]]]:
    async with api_with(**stage.settings) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        await api.grant("owner", room["id"], "member", "member")
        yield api, room


async def connection_of(api: Api, room: dict[str, Any], user: str | None) -> dict[str, Any]:
    response = await api.request("GET", f"/api/v1/rooms/{room['id']}", user=user)
    assert response.status_code == 200, response.text
    return dict(response.json()["connection"])


async def test_a_member_joins_with_the_connection_the_api_gives(
    meeting: tuple[Api, dict[str, Any]], stage: Stage
) -> None:
    api, room = meeting
    body = (await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")).json()
    connection = body["connection"]
    assert (connection["provider"], connection["room"], connection["identity"]) == (
        stage.provider,
        room["id"],
        "member",
    )
    if stage.provider == "livekit":
        assert body["livekit"] == {k: connection[k] for k in ("url", "room", "token")}
        assert "join_token" not in connection
    else:
        assert "livekit" not in body
        assert connection["join_token"]

    await stage.enter(connection)
    assert await stage.present(room["id"]) == {"member"}
    listed = (await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")).json()
    assert [(p["identity"], p["role"]) for p in listed["participants"]] == [("member", "member")]
    config = (await api.request("GET", "/api/v1/config")).json()
    assert config["sfu"]["provider"] == stage.provider


async def test_a_knocking_stranger_is_admitted_and_joins(meeting: tuple[Api, dict[str, Any]], stage: Stage) -> None:
    api, room = meeting
    await stage.enter(await connection_of(api, room, "owner"))  # an admin is in the room: knock notices
    path = f"/api/v1/rooms/{room['id']}/request-entry"
    knocked = (await api.request("POST", path, json={"username": "Zoe"})).json()
    assert (knocked["status"], knocked["connection"]) == ("waiting", None)
    decided = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/waiting-participants/{knocked['id']}", user="owner", json={"allow": True}
    )
    assert decided.status_code == 200, decided.text
    admitted = (await api.request("POST", path, headers={"X-Lobby-Credential": knocked["credential"]})).json()
    assert admitted["status"] == "accepted"
    assert admitted["connection"]["identity"] == knocked["id"]

    await stage.enter(admitted["connection"])
    assert await stage.present(room["id"]) == {"owner", knocked["id"]}


async def test_a_removed_participant_is_kicked_kept_out_and_removed_again(
    meeting: tuple[Api, dict[str, Any]], stage: Stage
) -> None:
    api, room = meeting
    connection = await connection_of(api, room, "member")
    await stage.enter(connection)
    await stage.deliver(api)
    removed = await api.request("DELETE", f"/api/v1/rooms/{room['id']}/participants/member", user="owner")
    assert removed.status_code == 204, removed.text
    assert await stage.present(room["id"]) == set()
    barred = (await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")).json()
    assert "connection" not in barred

    # The old connection still opens the SFU; the join event brings meet to remove them again.
    await stage.enter(connection)

    async def removed_again() -> bool:
        await stage.deliver(api)
        return await stage.present(room["id"]) == set()

    await until(removed_again)


async def test_an_admin_mutes_a_published_track(meeting: tuple[Api, dict[str, Any]], stage: Stage) -> None:
    api, room = meeting
    member = await stage.enter(await connection_of(api, room, "member"))
    await stage.publish(member)
    listed = (await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")).json()
    [participant] = listed["participants"]
    microphone = next(t for t in participant["tracks"] if t["source"] == "microphone")

    muted = await api.request(
        "POST",
        f"/api/v1/rooms/{room['id']}/participants/member/mute",
        user="owner",
        json={"track_sid": microphone["sid"]},
    )
    assert muted.status_code == 200, muted.text
    if isinstance(member, JanusParticipant):
        assert await member.moderation(expect=1) == {microphone["sid"]: "muted"}
    else:
        after = (await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")).json()
        by_sid = {t["sid"]: t["muted"] for t in after["participants"][0]["tracks"]}
        assert by_sid[microphone["sid"]] is True
