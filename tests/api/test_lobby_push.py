"""Push across processes: two ``meet serve`` processes sharing one Redis, or one Redis Cluster (and one
database)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from livekit.api import TokenVerifier
from redis import Redis as SyncRedis
from redis.cluster import RedisCluster as SyncRedisCluster

from tests.support.served import Served, serve
from tests.support.services import ServiceNotFound

STEP_TIMEOUT = 15


@pytest.fixture(scope="module", params=["redis", "redis-cluster"])
def two_processes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Served, Served]]:
    tmp_path = tmp_path_factory.mktemp("two-processes")
    if request.param == "redis-cluster":
        url = str(request.getfixturevalue("redis_cluster_url"))
        SyncRedisCluster.from_url(url).flushdb()
        stores: dict[str, Any] = {"redis_url": url, "redis_cluster": "true"}
    else:
        url = str(request.getfixturevalue("redis_url"))
        SyncRedis.from_url(url).flushdb()
        stores = {"redis_url": url}
    settings = {**stores, "data_dir": str(tmp_path / "var"), "lobby_keepalive_seconds": "1"}
    try:
        with ExitStack() as stack:
            first = stack.enter_context(serve(tmp_path, **settings))  # migrates the shared database first
            second = stack.enter_context(serve(tmp_path, **settings))
            yield first, second
    except ServiceNotFound as error:
        pytest.fail(str(error))


async def sse(response: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events stream; comments come as ("comment", text)."""
    event, data = "message", []
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            event = line.partition(":")[2].strip()
        elif line.startswith("data:"):
            data.append(line.partition(":")[2].strip())
        elif not line:
            if "".join(data):  # a comment-only message carries an empty data line: no event (as in browsers)
                yield event, json.loads("\n".join(data))
            event, data = "message", []


async def next_event(stream: AsyncIterator[tuple[str, Any]], *wanted: str) -> tuple[str, Any]:
    async def find() -> tuple[str, Any]:
        async for event, data in stream:
            if event in wanted:
                return event, data
        raise AssertionError(f"the stream ended before any of {wanted}")

    return await asyncio.wait_for(find(), STEP_TIMEOUT)


async def owners_room(client: httpx.AsyncClient, served: Served, **room: str) -> tuple[dict[str, str], Any]:
    """The owner's session headers, and a room they created on ``served``."""
    signed_in = await client.post(f"{served.base_url}/api/v1/auth/dev-login", json={"sub": "owner"})
    owner = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
    client.cookies.clear()
    return owner, (await client.post(f"{served.base_url}/api/v1/rooms", json=room, headers=owner)).json()


async def test_a_knock_and_a_decision_reach_streams_held_on_the_other_process(
    two_processes: tuple[Served, Served],
) -> None:
    one, two = two_processes
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as client:
        owner, room = await owners_room(client, one, name="Board", access_level="restricted")
        base_one, base_two = f"{one.base_url}/api/v1/rooms/{room['id']}", f"{two.base_url}/api/v1/rooms/{room['id']}"

        async with client.stream("GET", f"{base_two}/waiting-participants/events", headers=owner) as admin_stream:
            assert admin_stream.status_code == 200
            admin_events = sse(admin_stream)
            await next_event(admin_events, "comment")  # subscribed
            _, waiting = await next_event(admin_events, "waiting")  # the current state, at once
            assert waiting == {"count": 0}

            knocked = (await client.post(f"{base_one}/request-entry", json={"username": "Zoe"})).json()
            client.cookies.clear()
            _, change = await next_event(admin_events, "knocked")
            assert change["participant_id"] == knocked["id"]
            assert change["participant"]["username"] == "Zoe"
            listed = (await client.get(f"{base_two}/waiting-participants", headers=owner)).json()
            assert [p["id"] for p in listed["participants"]] == [knocked["id"]]

            credential = {"X-Lobby-Credential": knocked["credential"]}
            async with client.stream("GET", f"{base_one}/request-entry/events", headers=credential) as waiting_stream:
                assert waiting_stream.headers["content-type"].startswith("text/event-stream")
                participant_events = sse(waiting_stream)
                _, status = await next_event(participant_events, "status")
                assert status["status"] == "waiting"

                decision = await client.post(
                    f"{base_two}/waiting-participants/{knocked['id']}", json={"allow": True}, headers=owner
                )
                assert decision.status_code == 200

                _, pushed = await next_event(participant_events, "status")
                assert pushed["status"] == "accepted"
                assert TokenVerifier("devkey", "secret").verify(pushed["livekit"]["token"]).identity == knocked["id"]
            _, decided = await next_event(admin_events, "decided")
            assert decided["participant"]["status"] == "accepted"


async def test_a_stream_without_a_valid_credential_is_refused(two_processes: tuple[Served, Served]) -> None:
    one, _ = two_processes
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as client:
        response = await client.get(
            f"{one.base_url}/api/v1/rooms/some-room/request-entry/events", headers={"X-Lobby-Credential": "forged"}
        )
    assert response.status_code == 404
    assert response.json()["error"] == "lobby_entry_not_found"


async def test_a_room_changed_on_one_process_applies_to_the_next_knock_on_the_other(
    two_processes: tuple[Served, Served],
) -> None:
    """The other process answers knocks from its copy of the room; the change must reach it at once."""
    one, two = two_processes
    async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as client:
        owner, room = await owners_room(client, one, name="Hall")
        on_one, on_two = f"{one.base_url}/api/v1/rooms/{room['id']}", f"{two.base_url}/api/v1/rooms/{room['id']}"

        async def knock_on_two(name: str) -> httpx.Response:
            response = await client.post(f"{on_two}/request-entry", json={"username": name})
            client.cookies.clear()
            return response

        assert (await knock_on_two("Ann")).json()["status"] == "accepted"  # public: straight in
        changed = await client.patch(on_one, json={"access_level": "restricted"}, headers=owner)
        assert changed.status_code == 200, changed.text
        waiting = (await knock_on_two("Ben")).json()
        assert (waiting["status"], waiting["connection"]) == ("waiting", None)

        listen_only = {"access_level": "public", "configuration": {"can_publish_sources": []}}
        assert (await client.patch(on_one, json=listen_only, headers=owner)).status_code == 200
        entered = (await knock_on_two("Cy")).json()
        assert entered["status"] == "accepted"
        grants = TokenVerifier("devkey", "secret").verify(entered["livekit"]["token"]).video
        assert grants is not None
        assert not grants.can_publish

        assert (await client.delete(on_one, headers=owner)).status_code == 204
        gone = await knock_on_two("Di")
        assert gone.status_code == 404, gone.text
