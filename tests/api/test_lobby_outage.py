"""A Redis outage under load, against ``meet serve``: open streams end cleanly, and nothing fails once it is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_lobby_push import STEP_TIMEOUT, next_event, sse
from tests.support.served import serve
from tests.support.services import Redis, ServiceNotFound

STREAMS = 5
RECOVERY_REQUESTS = 150


async def read_to_the_end(events: AsyncIterator[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Every event until the server ends the stream; a protocol error (a cut stream) fails the test."""
    return [item async for item in events]


async def test_a_redis_outage_ends_open_streams_cleanly_and_recovery_answers_no_503(
    tmp_path: Path, disposable_redis: Redis
) -> None:
    settings = {"redis_url": disposable_redis.url, "data_dir": str(tmp_path / "var"), "lobby_keepalive_seconds": "1"}
    try:
        with serve(tmp_path, timeout=90, **settings) as served:
            await outage_and_recovery(served.base_url, disposable_redis)
    except ServiceNotFound as error:
        pytest.fail(str(error))


async def outage_and_recovery(base_url: str, redis: Redis) -> None:
    limits = httpx.Limits(max_connections=STREAMS + 40)
    # A generous timeout: what is asserted is that nothing fails, not how fast a loaded machine answers.
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        owner = await sign_in(client)
        room = (
            await client.post("/api/v1/rooms", json={"name": "Hall", "access_level": "restricted"}, headers=owner)
        ).json()
        base = f"/api/v1/rooms/{room['id']}"
        credentials = []
        for n in range(STREAMS):
            credentials.append((await client.post(f"{base}/request-entry", json={"username": f"P{n}"})).json())
            client.cookies.clear()

        async with contextlib_streams(client, base, owner, credentials) as streams:
            # Every stream is live: a status (or the admin's first comment) came through.
            ends = [asyncio.create_task(read_to_the_end(stream)) for stream in streams]
            load = asyncio.create_task(keep_knocking(client, base, credentials[0]["credential"]))
            redis.stop()
            finished = await asyncio.wait_for(asyncio.gather(*ends), STEP_TIMEOUT)
            for events in finished:
                assert events, "the stream ended without a word"
                kind, body = events[-1]
                assert kind == "error", events[-3:]
                assert body["error"] == "lobby_unavailable"
                assert body["status"] == 503
            redis.start()
            back = time.monotonic()
            during = await load  # answers during the outage: each a clean 200 or 503, never a 500
        assert {r.status_code for r in during} <= {200, 503}

        # Back (empty): every request from now on succeeds, stale pooled connections included.
        owner = await sign_in(client)
        after = await asyncio.gather(*(one_request(client, base, owner, n) for n in range(RECOVERY_REQUESTS)))
        failures = [(r.request.url.path, r.status_code, r.text[:200]) for r in after if r.status_code >= 300]
        assert failures == [], f"{len(failures)} of {RECOVERY_REQUESTS} failed within {time.monotonic() - back:.1f} s"


async def sign_in(client: httpx.AsyncClient) -> dict[str, str]:
    signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": "owner"})
    assert signed_in.status_code == 200, signed_in.text
    client.cookies.clear()
    return {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}


async def keep_knocking(client: httpx.AsyncClient, base: str, credential: str) -> list[httpx.Response]:
    """Polls during the outage, 50 at most, until the streams are all closed (bounded in count)."""
    answers = []
    for _ in range(50):
        answers.append(await client.post(f"{base}/request-entry", headers={"X-Lobby-Credential": credential}))
        await asyncio.sleep(0.02)
    return answers


async def one_request(client: httpx.AsyncClient, base: str, owner: dict[str, str], n: int) -> httpx.Response:
    kind = n % 3
    if kind == 0:
        return await client.post(f"{base}/request-entry", json={"username": f"After {n}"})
    if kind == 1:
        return await client.get(f"{base}/waiting-participants", headers=owner)
    return await client.get("/readyz")


class contextlib_streams:  # noqa: N801 - used as a context manager, like contextlib's
    """Open the participants' streams and one admin stream; each has shown it is live when entered."""

    def __init__(
        self, client: httpx.AsyncClient, base: str, owner: dict[str, str], knocked: list[dict[str, Any]]
    ) -> None:
        self._client, self._base, self._owner, self._knocked = client, base, owner, knocked
        self._managers: list[Any] = []

    async def __aenter__(self) -> list[AsyncIterator[tuple[str, Any]]]:
        streams = []
        for entry in self._knocked:
            headers = {"X-Lobby-Credential": entry["credential"]}
            streams.append(await self._open(f"{self._base}/request-entry/events", headers, "status"))
        streams.append(await self._open(f"{self._base}/waiting-participants/events", self._owner, "comment"))
        return streams

    async def _open(self, url: str, headers: dict[str, str], first: str) -> AsyncIterator[tuple[str, Any]]:
        manager = self._client.stream("GET", url, headers=headers)
        self._managers.append(manager)
        response = await manager.__aenter__()
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse(response)
        await next_event(events, first)
        return events

    async def __aexit__(self, *exc: object) -> None:
        for manager in reversed(self._managers):
            await manager.__aexit__(None, None, None)
