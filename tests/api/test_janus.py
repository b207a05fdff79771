"""What meet does itself on Janus, where Janus cannot: end to end against a real Janus (MEET_SFU=janus).

Janus binds no identity to a token, has no per-source grants, sends no server data, keeps no room
metadata and records nothing meet can use; these tests show meet making up for each, or refusing clearly.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from meet.entrypoints.settings import SettingsError, load_settings
from tests.api.conftest import Api
from tests.support.janus import Janus, arrival, meet_settings, plugin_event, until
from tests.support.janus_client import JanusParticipant


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture
async def api(api_with: Any, janus: Janus) -> AsyncIterator[Api]:
    async with api_with(**meet_settings(janus, janus_empty_timeout_seconds="0")) as running:
        await running.sign_in("owner")
        await running.sign_in("member")
        yield running


class Events:
    """Brings what Janus's event handler posted to the API's webhook, as Janus posted it."""

    def __init__(self, janus: Janus, api: Api) -> None:
        self._janus = janus
        self._api = api
        self._seen = len(janus.events.bodies())

    async def deliver(self) -> None:
        bodies = self._janus.events.bodies()
        for body in bodies[self._seen :]:
            headers = {"Authorization": self._janus.events.expected_authorization()}
            response = await self._api.request("POST", "/api/v1/webhooks/janus", content=body, headers=headers)
            assert response.status_code == 200, response.text
        self._seen = len(bodies)


def _published_by(event: dict[str, Any], given: dict[str, Any]) -> bool:
    data = plugin_event(event)
    return data.get("event") in {"published", "configured"} and (data.get("room"), data.get("id")) == (
        given["room"],
        given["identity"],
    )


async def connection(api: Api, room: dict[str, Any], user: str | None) -> dict[str, Any]:
    return dict((await api.request("GET", f"/api/v1/rooms/{room['id']}", user=user)).json()["connection"])


async def enter(
    http: httpx.AsyncClient, given: dict[str, Any], *, identity: str | None = None, opaque: bool = True
) -> JanusParticipant:
    client = JanusParticipant(url=given["url"], token=given["token"], http=http)
    await client.connect(opaque_id=given["token"] if opaque else None)
    await client.join(given["room"], identity or given["identity"], join_token=given["join_token"])
    return client


async def in_room(api: Api, room: dict[str, Any]) -> set[str]:
    listed = (await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")).json()
    return {p["identity"] for p in listed["participants"]}


async def test_someone_joining_under_another_identity_is_removed_within_seconds(
    api: Api, janus: Janus, http: httpx.AsyncClient
) -> None:
    room = await api.create_room("owner", "Board", access_level="public")
    events = Events(janus, api)
    honest = await enter(http, await connection(api, room, "member"))
    # An anonymous visitor gets a valid token for this room, and joins as the room's owner.
    await enter(http, await connection(api, room, None), identity="owner")
    assert await in_room(api, room) == {"member", "owner"}

    async def impostor_gone() -> bool:
        await events.deliver()
        return await in_room(api, room) == {"member"}

    await until(impostor_gone)
    await honest.close()


async def test_a_listen_only_room_cannot_publish(api: Api, janus: Janus, http: httpx.AsyncClient) -> None:
    room = await api.create_room("owner", "Town hall", access_level="public", configuration={"can_publish_sources": []})
    events = Events(janus, api)
    given = await connection(api, room, "member")
    listener = await enter(http, given)
    configured = await listener.publish()
    mids = [stream["mid"] for stream in configured["streams"]]
    # Janus's event handler posts in batches, on its own schedule: deliver once the publication is among them
    # (this test's room is new, so any publication in it is this one).
    await arrival(janus.events, lambda e: _published_by(e, given))
    await events.deliver()
    # meet saw the publication in Janus's events and muted every stream the policy does not grant.
    assert await listener.moderation(expect=len(mids)) == dict.fromkeys(mids, "muted")
    await listener.close()


async def test_what_janus_cannot_do_is_refused_naming_the_capability(
    api: Api, janus: Janus, http: httpx.AsyncClient
) -> None:
    room = await api.create_room("owner", "Board", access_level="public")
    given = await connection(api, room, "member")
    member = await enter(http, given)

    recording = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/recordings", user="owner", json={"mode": "transcript"}
    )
    assert recording.status_code == 409
    assert recording.json()["error"] == "sfu_capability_missing"
    assert "recording" in recording.json()["detail"]

    renamed = await api.request(
        "POST",
        f"/api/v1/rooms/{room['id']}/participants/member/name",
        headers={"Authorization": f"Bearer {given['token']}"},
        json={"name": "Someone else"},
    )
    assert renamed.status_code == 409, renamed.text
    assert "participant_attributes" in renamed.json()["detail"]

    # Changing the room's settings does not fail for want of live metadata.
    updated = await api.request("PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"name": "Board 2"})
    assert updated.status_code == 200, updated.text
    ready = await api.request("GET", "/readyz")
    assert (ready.status_code, ready.json()["checks"]["janus"]) == (200, "ok")
    config = (await api.request("GET", "/api/v1/config")).json()["sfu"]
    assert config["provider"] == "janus"
    assert config["url"] == janus.url
    assert config["capabilities"]["recording"] is False
    await member.close()


async def test_janus_events_need_the_configured_credentials_and_the_livekit_hook_is_not_there(
    api: Api, janus: Janus
) -> None:
    janus.events.wait_for(lambda _event: True)
    body = janus.events.bodies()[0]
    wrong = await api.request("POST", "/api/v1/webhooks/janus", content=body, headers={"Authorization": "Basic eDp5"})
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_webhook_signature"
    garbage = await api.request(
        "POST", "/api/v1/webhooks/janus", content=b"{", headers={"Authorization": janus.events.expected_authorization()}
    )
    assert garbage.status_code == 400
    leaving = {"event": "leaving", "room": "nope", "id": "x"}
    unknown_room = json.dumps([{"type": 64, "event": {"plugin": "janus.plugin.videoroom", "data": leaving}}]).encode()
    acknowledged = await api.request(
        "POST",
        "/api/v1/webhooks/janus",
        content=unknown_room,
        headers={"Authorization": janus.events.expected_authorization()},
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["events"] == ["participant_left"]
    assert (await api.request("POST", "/api/v1/webhooks/livekit", content=b"{}")).status_code == 404


async def test_the_room_is_created_on_demand_and_destroyed_when_it_empties(
    api: Api, janus: Janus, http: httpx.AsyncClient
) -> None:
    room = await api.create_room("owner", "Board", access_level="public")
    events = Events(janus, api)
    member = await enter(http, await connection(api, room, "member"))  # the room exists: joining works
    await member.request({"request": "leave"})

    async def destroyed() -> bool:
        await events.deliver()
        return bool(
            [e for e in janus.events.events() if e.get("event", {}).get("data", {}).get("event") == "destroyed"
             and e["event"]["data"].get("room") == room["id"]]
        )  # fmt: skip

    await until(destroyed)
    assert (await api.request("GET", f"/api/v1/rooms/{room['id']}/participants", user="owner")).json()["count"] == 0
    # The next connection creates it again.
    again = await enter(http, await connection(api, room, "member"))
    assert await in_room(api, room) == {"member"}
    await again.close()
    await member.close()


def test_janus_settings_are_checked_at_start_up(tmp_path: Path) -> None:
    base = {"MEET_DATA_DIR": str(tmp_path)}
    with pytest.raises(SettingsError) as refused:
        load_settings({**base, "MEET_SFU": "janus", "MEET_JANUS_URL": "http://127.0.0.1:8088/janus"}, dotenv=None)
    message = str(refused.value)
    for name in ("MEET_JANUS_ADMIN_URL", "MEET_JANUS_ADMIN_SECRET", "MEET_JANUS_ADMIN_KEY", "MEET_JANUS_TOKEN_SECRET"):
        assert name in message
    with pytest.raises(SettingsError, match="MEET_SFU"):
        load_settings({**base, "MEET_SFU": "mediasoup"}, dotenv=None)
