"""A Redis Cluster master dies under load: ``meet serve`` answers 503 with Retry-After for the failover
window, loses no acknowledged decision, and serves fully again by itself once the replica took over."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.api.test_lobby_push import sse
from tests.support.redis_cluster import RedisClusterServer
from tests.support.served import Served, serve
from tests.support.services import ServiceNotFound

RECOVERY_TIMEOUT = 60.0
REQUEST_TIMEOUT = 15.0


@pytest.fixture
def served_on_cluster(tmp_path: Path, disposable_redis_cluster: RedisClusterServer) -> Iterator[Served]:
    settings: dict[str, Any] = {
        "redis_url": disposable_redis_cluster.url,
        "redis_cluster": "true",
        "data_dir": str(tmp_path / "var"),
        "lobby_keepalive_seconds": "1",
        "lobby_knocks_per_minute": "100000",
    }
    try:
        with serve(tmp_path, **settings) as served:
            yield served
    except ServiceNotFound as error:
        pytest.fail(str(error))


def master_holding_the_lobby(cluster: RedisClusterServer) -> int:
    """Asked of each master directly: which one holds the (only) room's lobby keys."""
    with contextlib.closing(cluster.client()) as client:
        primaries = [int(node.port) for node in client.get_primaries()]  # type: ignore[no-untyped-call]
    for port in primaries:
        with contextlib.closing(redis.Redis(host="127.0.0.1", port=port)) as master:
            if master.keys("meet:lobby:*:entries"):  # test-side inspection only
                return port
    raise AssertionError("no master holds the lobby")


class Tally:
    """Every answer seen during the failover: only 200s and proper 503s are allowed."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.unexpected: list[str] = []

    def record(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code == 200:
            return
        if response.status_code != 503 or not response.headers.get("retry-after"):
            self.unexpected.append(f"{response.status_code} {response.headers} {response.text[:300]}")
            return
        body = response.json()
        if body.get("status") != 503 or "try again" not in body.get("detail", ""):
            self.unexpected.append(f"503 without the error shape: {body}")


async def test_a_master_killed_under_polls_and_streams_costs_only_503s_and_heals_by_itself(
    served_on_cluster: Served, disposable_redis_cluster: RedisClusterServer
) -> None:
    base = served_on_cluster.base_url
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT) as client:
        signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": "owner"})
        owner = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
        client.cookies.clear()
        room = (
            await client.post("/api/v1/rooms", json={"name": "Town hall", "access_level": "restricted"}, headers=owner)
        ).json()
        lobby = f"/api/v1/rooms/{room['id']}"

        async def knock(name: str) -> dict[str, Any]:
            response = await client.post(f"{lobby}/request-entry", json={"username": name})
            client.cookies.clear()
            assert response.status_code == 200, response.text
            return dict(response.json())

        people = [await knock(f"P{n}") for n in range(8)]
        admitted, pollers, streamer = people[:3], people[3:7], people[7]
        for person in admitted:  # acknowledged before the kill
            decided = await client.post(
                f"{lobby}/waiting-participants/{person['id']}", json={"allow": True}, headers=owner
            )
            assert decided.status_code == 200, decided.text

        tally, stop = Tally(), asyncio.Event()

        async def poll(person: dict[str, Any]) -> None:
            while not stop.is_set():
                with contextlib.suppress(httpx.TimeoutException):
                    tally.record(
                        await client.post(
                            f"{lobby}/request-entry", headers={"X-Lobby-Credential": person["credential"]}
                        )
                    )
                client.cookies.clear()
                await asyncio.sleep(0.05)

        async def list_waiting() -> None:
            while not stop.is_set():
                tally.record(await client.get(f"{lobby}/waiting-participants", headers=owner))
                await asyncio.sleep(0.1)

        async def stream_until_decided() -> dict[str, Any]:
            """As a browser's EventSource does: reopen the stream whenever it ends, until the decision."""
            headers = {"X-Lobby-Credential": streamer["credential"]}
            while True:
                try:
                    async with client.stream("GET", f"{lobby}/request-entry/events", headers=headers) as stream:
                        if stream.status_code != 200:
                            await stream.aread()
                            tally.record(stream)
                            await asyncio.sleep(0.2)
                            continue
                        async for event, data in sse(stream):
                            if event == "status" and data["status"] != "waiting":
                                return dict(data)
                except (httpx.TransportError, httpx.RemoteProtocolError):
                    pass  # the stream broke with the master: reopen it
                await asyncio.sleep(0.2)

        streaming = asyncio.create_task(stream_until_decided())
        load = [asyncio.create_task(poll(person)) for person in pollers] + [asyncio.create_task(list_waiting())]
        await asyncio.sleep(0.5)
        before = tally.statuses[200]
        assert before > 0
        assert tally.statuses[503] == 0

        disposable_redis_cluster.kill_node(master_holding_the_lobby(disposable_redis_cluster))
        killed = time.monotonic()
        while tally.statuses[503] == 0 or tally.statuses[200] == before:
            # Bounded: the failover takes the cluster's node timeout plus an election.
            assert time.monotonic() - killed < RECOVERY_TIMEOUT, (
                f"no recovery within {RECOVERY_TIMEOUT:.0f} s: {tally.statuses}"
            )
            await asyncio.sleep(0.1)
        recovered = await wait_until_ok(client, f"{lobby}/waiting-participants", owner, killed)
        stop.set()
        await asyncio.gather(*load)
        assert not tally.unexpected, tally.unexpected[:5]
        assert set(tally.statuses) <= {200, 503}

        # Full service, with no restart: the acknowledged admissions hold, with a token each ...
        for person in admitted:
            polled = await client.post(f"{lobby}/request-entry", headers={"X-Lobby-Credential": person["credential"]})
            client.cookies.clear()
            assert polled.status_code == 200, polled.text
            assert polled.json()["status"] == "accepted"
            assert polled.json()["livekit"]["token"]
        # ... the rest still waits in arrival order, a decision reaches the participant's stream ...
        listed = (await client.get(f"{lobby}/waiting-participants", headers=owner)).json()
        assert [p["id"] for p in listed["participants"]] == [p["id"] for p in [*pollers, streamer]]
        decided = await client.post(
            f"{lobby}/waiting-participants/{streamer['id']}", json={"allow": True}, headers=owner
        )
        assert decided.status_code == 200, decided.text
        pushed = await asyncio.wait_for(streaming, RECOVERY_TIMEOUT)
        assert pushed["status"] == "accepted"
        # ... newcomers knock, and readiness is green again.
        assert (await knock("Late"))["status"] == "waiting"
        await wait_until_ok(client, "/readyz", {}, killed)
    print(f"failover: served again {recovered:.1f} s after the kill; answers {dict(tally.statuses)}")


async def wait_until_ok(client: httpx.AsyncClient, url: str, headers: dict[str, str], since: float) -> float:
    while True:
        response = await client.get(url, headers=headers)
        if response.status_code == 200:
            return time.monotonic() - since
        assert response.status_code == 503, response.text
        assert time.monotonic() - since < RECOVERY_TIMEOUT, f"{url} still {response.status_code}"
        await asyncio.sleep(0.2)
