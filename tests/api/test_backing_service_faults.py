"""Real backing services stopped under concurrent requests: while they are down every answer is a 503
with ``Retry-After`` (never a 500, never a hang past the configured timeouts), and full service is back
within a second of their recovery, with nothing lost or half-written."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.support.services import LocalPostgres, Redis

WORKERS = 6
# Past this, a request hangs: the database pool's connect timeout (5 s) plus a margin for this machine.
HANG_SECONDS = 12.0
RECOVERY_SECONDS = 1.0

Request = Callable[[], Awaitable[httpx.Response]]


@dataclass
class Traffic:
    """Concurrent clients looping over ``requests`` until stopped; every answer is kept."""

    requests: list[Request]
    answers: list[tuple[float, int, dict[str, str], str]] = field(default_factory=list)
    _running: bool = True

    async def _client(self, offset: int) -> None:
        index = offset
        while self._running:
            began = time.monotonic()
            response = await self.requests[index % len(self.requests)]()
            self.answers.append((time.monotonic() - began, response.status_code, dict(response.headers), response.text))
            index += 1
            await asyncio.sleep(0)

    async def __aenter__(self) -> Traffic:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(WORKERS)]
        return self

    async def __aexit__(self, *_: object) -> None:
        self._running = False
        await asyncio.wait_for(asyncio.gather(*self._tasks), timeout=HANG_SECONDS * 2)

    async def until(self, predicate: Callable[[], bool], within: float) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            assert time.monotonic() < deadline, f"still waiting after {within} s: {self.summary()}"
            await asyncio.sleep(0.01)

    def summary(self) -> Counter[int]:
        return Counter(status for _, status, _, _ in self.answers)


def assert_only_unavailable_or_fine(traffic: Traffic, fine: set[int]) -> None:
    for elapsed, status, headers, text in traffic.answers:
        assert status in fine | {503}, f"{status}: {text}"
        if status == 503:
            assert headers.get("retry-after"), text
        assert elapsed < HANG_SECONDS, f"a request took {elapsed:.1f} s"
    assert traffic.summary()[503] > 0, traffic.summary()  # the outage was seen


async def recovery_time(requests: list[Request], fine: set[int]) -> float:
    """Seconds from now until every request answers as usual: rounds of all of them at once, until two
    rounds in a row are fine; the answer is when the first of those two began."""
    began = time.monotonic()
    deadline = began + 30
    rounds: list[tuple[float, bool]] = []
    last: list[int] = []
    while len(rounds) < 2 or not (rounds[-1][1] and rounds[-2][1]):
        assert time.monotonic() < deadline, f"the service did not recover: {rounds[-3:]}, {last}"
        started = time.monotonic() - began
        answers = await asyncio.gather(*(request() for request in requests * 3))
        rounds.append((started, all(answer.status_code in fine for answer in answers)))
        last = sorted({answer.status_code for answer in answers})
    return rounds[-2][0]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgresql_shutting_down_under_load(
    api_with: Any, disposable_postgres: LocalPostgres, mode: str
) -> None:
    async with api_with(database_url=disposable_postgres.url()) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        created: list[str] = []

        async def create() -> httpx.Response:
            response: httpx.Response = await api.request(
                "POST", "/api/v1/rooms", user="owner", json={"name": f"R {len(created)}"}
            )
            if response.status_code == 201:
                created.append(response.json()["id"])
            return response

        requests: list[Request] = [
            lambda: api.request("GET", f"/api/v1/rooms/{room['id']}"),  # the read pool (asyncpg)
            lambda: api.request("GET", "/api/v1/rooms", user="owner"),  # SQLAlchemy
            create,  # a write
            lambda: api.request("GET", "/api/v1/users/me", user="owner"),
        ]
        async with Traffic(requests) as traffic:
            await traffic.until(lambda: len(traffic.answers) >= 40, within=30)
            disposable_postgres.stop(mode)
            seen = len(traffic.answers)
            await traffic.until(lambda: traffic.summary()[503] >= 20 and len(traffic.answers) > seen + 40, within=60)
            await asyncio.to_thread(disposable_postgres.start)
            recovered = await recovery_time(requests, {200, 201})
        assert_only_unavailable_or_fine(traffic, {200, 201})
        assert recovered < RECOVERY_SECONDS, f"full service {recovered:.2f} s after PostgreSQL came back"
        # Nothing half-written: the rooms listed are those whose creation was answered 201.
        listed = (await api.request("GET", "/api/v1/rooms", user="owner")).json()
        if mode == "fast":  # a clean shutdown flushes every commit first: nothing is lost
            assert listed["count"] == len(created) + 1
        else:  # a crash loses the last commits of a test server run with synchronous_commit=off, no more
            assert 1 <= listed["count"] <= len(created) + 1


async def test_redis_killed_under_load(api_with: Any, disposable_redis: Redis) -> None:
    unlimited = {"lobby_knocks_per_minute": "1000000", "lobby_new_participants_per_minute_per_address": "1000000"}
    async with api_with(redis_url=disposable_redis.url, **unlimited) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        requests: list[Request] = [
            lambda: api.request("GET", "/api/v1/users/me", user="owner"),  # the session, in Redis
            lambda: api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Guest"}),
            lambda: api.request("GET", f"/api/v1/rooms/{room['id']}/waiting-participants", user="owner"),
        ]
        async with Traffic(requests) as traffic:
            await traffic.until(lambda: len(traffic.answers) >= 30, within=30)
            disposable_redis.kill()
            seen = len(traffic.answers)
            await traffic.until(lambda: traffic.summary()[503] >= 20 and len(traffic.answers) > seen + 30, within=60)
            await asyncio.to_thread(disposable_redis.start)
            # The session died with Redis (it kept nothing on disk): sign in again, as a user would.
            recovered = await recovery_time(requests[1:2], {200})
        assert_only_unavailable_or_fine(traffic, {200, 401})
        assert recovered < RECOVERY_SECONDS, f"full service {recovered:.2f} s after Redis came back"
        await api.sign_in("owner")
        assert (await api.request("GET", "/api/v1/users/me", user="owner")).status_code == 200
        waiting = await api.request("GET", f"/api/v1/rooms/{room['id']}/waiting-participants", user="owner")
        assert waiting.status_code == 200
        assert waiting.json()["count"] >= 1  # knocks after the restart are listed
