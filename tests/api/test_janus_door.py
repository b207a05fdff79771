"""Ending a meeting and sending someone back to the lobby on a real Janus (MEET_SFU=janus), with real
PostgreSQL and Redis: VideoRoom's "destroy" closes the room, its "kick" removes one participant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api
from tests.api.test_janus import connection, enter, in_room
from tests.support.janus import Janus, meet_settings


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture
async def api(api_with: Any, janus: Janus, redis_url: str, fresh_postgres_database: str) -> AsyncIterator[Api]:
    settings = meet_settings(janus, janus_empty_timeout_seconds="0", room_end_grace_seconds="600")
    async with api_with(redis_url=redis_url, database_url=fresh_postgres_database, **settings) as running:
        await running.sign_in("owner")
        await running.sign_in("member")
        await running.sign_in("other")
        yield running


async def test_ending_a_meeting_on_janus_closes_the_videoroom(api: Api, http: httpx.AsyncClient) -> None:
    room = await api.create_room("owner", "Board", access_level="restricted")
    await api.grant("owner", room["id"], "member", "member")
    await api.grant("owner", room["id"], "other", "member")
    member = await enter(http, await connection(api, room, "member"))
    other = await enter(http, await connection(api, room, "other"))
    assert await in_room(api, room) == {"member", "other"}

    ended = await api.request("POST", f"/api/v1/rooms/{room['id']}/end", user="owner")
    assert ended.status_code == 200, ended.text
    assert await in_room(api, room) == set()  # the VideoRoom room is gone, everyone with it
    refused = await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")
    assert (refused.status_code, refused.json()["error"]) == (409, "meeting_ended")
    # Ending a meeting whose room is not live is no error either.
    assert (await api.request("POST", f"/api/v1/rooms/{room['id']}/end", user="owner")).status_code == 200
    await member.close()
    await other.close()


async def test_a_member_sent_back_on_janus_is_kicked_and_held_at_the_lobby(api: Api, http: httpx.AsyncClient) -> None:
    room = await api.create_room("owner", "Board", access_level="restricted")
    await api.grant("owner", room["id"], "member", "member")
    base = f"/api/v1/rooms/{room['id']}"
    owner = await enter(http, await connection(api, room, "owner"))
    member = await enter(http, await connection(api, room, "member"))
    assert await in_room(api, room) == {"owner", "member"}

    sent = await api.request("POST", f"{base}/participants/member/send-to-lobby", user="owner")
    assert (sent.status_code, sent.json()["status"]) == (200, "suspended")
    assert await in_room(api, room) == {"owner"}
    held = (await api.request("GET", base, user="member")).json()
    assert (held.get("connection"), held["held"]) == (None, "sent_to_lobby")
    knocked = await api.request("POST", f"{base}/request-entry", user="member", json={})
    assert knocked.json()["status"] == "waiting"
    admitted = await api.request(
        "POST", f"{base}/waiting-participants/{knocked.json()['id']}", user="owner", json={"allow": True}
    )
    assert admitted.json()["status"] == "accepted"
    assert (await api.request("GET", base, user="member")).json()["connection"]["provider"] == "janus"
    await member.close()
    await owner.close()
