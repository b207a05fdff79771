"""The participant's stream against ``meet serve``: what a browser's EventSource reads, and a busy room."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis import Redis as SyncRedis

from tests.api.test_lobby_push import STEP_TIMEOUT
from tests.support.served import Served, serve
from tests.support.services import ServiceNotFound

WAITING_TIMEOUT = 3  # seconds: short, so that "never expired" is proven within a few seconds


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("streams")
    SyncRedis.from_url(redis_url).flushdb()
    settings = {
        "redis_url": redis_url,
        "data_dir": str(tmp_path / "var"),
        "lobby_keepalive_seconds": "1",
        "lobby_waiting_timeout_seconds": str(WAITING_TIMEOUT),
    }
    try:
        with serve(tmp_path, timeout=90, **settings) as running:
            yield running
    except ServiceNotFound as error:
        pytest.fail(str(error))


@contextlib.asynccontextmanager
async def restricted_room(served: Served) -> AsyncIterator[tuple[httpx.AsyncClient, str, dict[str, str]]]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=STEP_TIMEOUT) as client:
        signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": "owner"})
        owner = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
        client.cookies.clear()
        room = await client.post(
            "/api/v1/rooms", json={"name": f"Hall {uuid.uuid4().hex[:8]}", "access_level": "restricted"}, headers=owner
        )
        yield client, f"/api/v1/rooms/{room.json()['id']}", owner


async def knock(client: httpx.AsyncClient, base: str, name: str) -> dict[str, Any]:
    knocked = (await client.post(f"{base}/request-entry", json={"username": name})).json()
    client.cookies.clear()
    return dict(knocked)


async def lines(stream: AsyncIterator[str], until: str, *, at_most: int = 200) -> list[str]:
    """The stream's next lines up to and including the first one starting with ``until`` (bounded)."""
    seen: list[str] = []

    async def read() -> list[str]:
        async for line in stream:
            seen.append(line)
            if line.startswith(until) or len(seen) >= at_most:
                return seen
        return seen

    return await asyncio.wait_for(read(), STEP_TIMEOUT)


async def test_the_stream_speaks_plain_sse_retry_ids_and_comment_keepalives(served: Served) -> None:
    async with restricted_room(served) as (client, base, owner):
        zoe = await knock(client, base, "Zoe")
        headers = {"X-Lobby-Credential": zoe["credential"], "Last-Event-ID": "waiting"}
        async with client.stream("GET", f"{base}/request-entry/events", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            sse = stream.aiter_lines()
            opening = await lines(sse, "data:")
            assert opening[:3] == ["retry: 3000", "id: waiting", "event: status"]
            assert '"status":"waiting"' in opening[3]
            keepalives = await lines(sse, ": keep-alive")
            assert keepalives[-1] == ": keep-alive"
            assert not [line for line in keepalives if line.startswith(("data:", "event:"))]  # no empty events
            decided = await client.post(f"{base}/waiting-participants/{zoe['id']}", json={"allow": True}, headers=owner)
            assert decided.status_code == 200
            accepted = await lines(sse, "data:")
            assert accepted[-3:-1] == ["id: accepted", "event: status"]
            assert '"status":"accepted"' in accepted[-1]
            assert '"token":"' in accepted[-1]


async def test_a_participant_holding_the_stream_is_never_expired_however_busy_the_room(served: Served) -> None:
    async with restricted_room(served) as (client, base, owner):
        holder, idle = await knock(client, base, "Holder"), await knock(client, base, "Idle")
        headers = {"X-Lobby-Credential": holder["credential"]}
        async with client.stream("GET", f"{base}/request-entry/events", headers=headers) as stream:
            sse = stream.aiter_lines()
            await lines(sse, "data:")
            knocks = 0
            # Three waiting timeouts pass (the stream's own keep-alives are the clock), with a knock
            # arriving in the room all the while: the busy room that used to starve the keep-alive.
            for _ in range(3 * WAITING_TIMEOUT + 1):
                read = asyncio.create_task(lines(sse, ": keep-alive"))
                while not read.done():
                    await knock(client, base, f"Busy {knocks}")
                    knocks += 1
                    await asyncio.wait({read}, timeout=0.2)
                assert not [line for line in read.result() if line.startswith("event: gone")]
            assert knocks > 3 * WAITING_TIMEOUT
            listed = (await client.get(f"{base}/waiting-participants?limit=200", headers=owner)).json()
        waiting = {p["id"] for p in listed["participants"]}
        assert holder["id"] in waiting
        assert idle["id"] not in waiting  # nobody kept that one alive: it expired meanwhile


async def test_the_admins_stream_gets_keepalives_too_and_still_hears_every_knock(served: Served) -> None:
    async with (
        restricted_room(served) as (client, base, owner),
        client.stream("GET", f"{base}/waiting-participants/events", headers=owner) as stream,
    ):
        sse = stream.aiter_lines()
        assert (await lines(sse, "data:"))[-2:] == ["event: waiting", 'data: {"count":0}']
        assert (await lines(sse, ": keep-alive"))[-1] == ": keep-alive"
        newcomer = await knock(client, base, "Newcomer")
        knocked = await lines(sse, "data:")
        assert "event: knocked" in knocked
        assert newcomer["id"] in knocked[-1]
        assert (await lines(sse, ": keep-alive"))[-1] == ": keep-alive"  # quiet again: kept alive again
