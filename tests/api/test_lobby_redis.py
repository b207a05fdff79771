"""What only a real Redis can show: no key enumeration on request paths, and surviving an outage."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis as RedisClient

from meet.entrypoints.http import sessions
from tests.api.conftest import Api
from tests.support.livekit_webhooks import signed_delivery
from tests.support.services import Redis

# MONITOR sees every client's commands: the background mover of lobby records (its SCAN of the audit
# streams, off every request path) is paused so that only the requests' own commands are counted.
QUIET_BACKGROUND = {"lobby_records_poll_seconds": "3600"}


@contextlib.asynccontextmanager
async def monitored(url: str, *, from_clients_only: bool = False) -> AsyncIterator[list[str]]:
    """Every command Redis receives meanwhile, as upper-case command names.

    ``from_clients_only`` leaves out the commands Lua scripts run and connection handshakes (``HELLO``,
    this helper's own included): what remains is one per request round trip.
    """
    seen: list[str] = []
    client = RedisClient.from_url(url)
    async with client.monitor() as monitor:
        sentinel = "meet-monitor-end"

        async def collect() -> None:
            while True:
                info = await monitor.next_command()
                command = str(info["command"])
                if sentinel in command:
                    return
                if from_clients_only and (info.get("client_type") == "lua" or command.upper().startswith("HELLO")):
                    continue
                seen.append(command.split(" ", 1)[0].upper())

        collector = asyncio.create_task(collect())
        yield seen
        await client.echo(sentinel)
        await asyncio.wait_for(collector, 10)
    await client.aclose()


async def test_no_request_path_enumerates_keys(api_with: Any, redis_url: str) -> None:
    client = RedisClient.from_url(redis_url)
    await client.flushdb()
    # Unrelated keys must not matter to any request path.
    await client.mset({f"unrelated:{i}": "x" for i in range(2000)})
    await client.aclose()
    async with api_with(redis_url=redis_url, **QUIET_BACKGROUND) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        async with monitored(redis_url) as commands:
            base = f"/api/v1/rooms/{room['id']}"
            knocked = (await api.request("POST", f"{base}/request-entry", json={"username": "Zoe"})).json()
            other = (await api.request("POST", f"{base}/request-entry", json={"username": "Max"})).json()
            await api.request("POST", f"{base}/request-entry", headers={"X-Lobby-Credential": knocked["credential"]})
            assert (await api.request("GET", f"{base}/waiting-participants", user="owner")).status_code == 200
            decided = await api.request(
                "POST", f"{base}/waiting-participants/{knocked['id']}", user="owner", json={"allow": True}
            )
            assert decided.status_code == 200
            await api.request("POST", f"{base}/waiting-participants/admit-all", user="owner")
            await api.request("POST", f"{base}/request-entry", headers={"X-Lobby-Credential": other["credential"]})
            body, headers = signed_delivery({"event": "room_finished", "room": {"name": room["id"]}})
            assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)).is_success
    assert commands, "MONITOR saw nothing: the test would prove nothing"
    assert {"EVALSHA", "EVAL"} & set(commands)
    assert not {"KEYS", "SCAN"} & set(commands), commands


async def test_a_knock_and_a_poll_cost_a_fixed_number_of_round_trips(api_with: Any, redis_url: str) -> None:
    async with api_with(redis_url=redis_url, **QUIET_BACKGROUND) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        knock_url = f"/api/v1/rooms/{room['id']}/request-entry"

        async def knock_and_poll() -> tuple[list[str], list[str]]:
            async with monitored(redis_url, from_clients_only=True) as knock:
                knocked = (await api.request("POST", knock_url, json={"username": "Zoe"})).json()
            async with monitored(redis_url, from_clients_only=True) as poll:
                await api.request("POST", knock_url, headers={"X-Lobby-Credential": knocked["credential"]})
            return knock, poll

        await knock_and_poll()  # the scripts are loaded into Redis once, on first use
        few = await knock_and_poll()
        for n in range(50):
            await api.request("POST", knock_url, json={"username": f"Guest {n}"})
        many = await knock_and_poll()

    assert few == many
    knock, poll = few
    # One script checks the stamp of the room (this process keeps a copy of it), counts the rate limit,
    # checks the room's bars and knocks.
    assert knock == ["EVALSHA"]
    assert poll == ["EVALSHA"]


async def test_admit_all_costs_the_same_round_trips_with_150_waiting_as_with_3(api_with: Any, redis_url: str) -> None:
    async with api_with(redis_url=redis_url, **QUIET_BACKGROUND) as api:
        await api.sign_in("owner")

        async def admit_all(waiting: int) -> list[str]:
            room = await api.create_room("owner", f"Hall {waiting}", access_level="restricted")
            base = f"/api/v1/rooms/{room['id']}"
            for n in range(waiting):
                await api.request("POST", f"{base}/request-entry", json={"username": f"Guest {n}"})
            async with monitored(redis_url, from_clients_only=True) as commands:
                admitted = await api.request("POST", f"{base}/waiting-participants/admit-all", user="owner")
            assert admitted.json() == {"admitted": waiting}
            return [c for c in commands if c not in {"GET", "SET", "EXPIRE", "PEXPIRE"}]  # the session store's

        await admit_all(1)  # the script is loaded into Redis once, on first use
        # (MONITOR prints each batch of decisions on one line: 150 keep it readable)
        few, many = await admit_all(3), await admit_all(150)
    assert few == many == ["EVALSHA"]


@pytest.fixture
async def outage_api(api_with: Any, disposable_redis: Redis) -> AsyncIterator[tuple[Api, Redis]]:
    async with api_with(redis_url=disposable_redis.url) as api:
        await api.sign_in("owner")
        yield api, disposable_redis


async def test_redis_down_is_a_clear_503_and_the_lobby_recovers_by_itself(outage_api: tuple[Api, Redis]) -> None:
    api, redis = outage_api
    room = await api.create_room("owner", "Board", access_level="restricted")
    base = f"/api/v1/rooms/{room['id']}"
    knocked = (await api.request("POST", f"{base}/request-entry", json={"username": "Zoe"})).json()
    redis.stop()
    try:
        down = [
            await api.request("POST", f"{base}/request-entry", json={"username": "Max"}),
            await api.request("POST", f"{base}/request-entry", headers={"X-Lobby-Credential": knocked["credential"]}),
            await api.request("GET", f"{base}/waiting-participants", user="owner"),
            await api.request(
                "POST", f"{base}/waiting-participants/{knocked['id']}", user="owner", json={"allow": True}
            ),
            await api.request("GET", "/readyz"),
        ]
    finally:
        redis.start()
    *lobby_answers, readiness = down
    for response in lobby_answers:
        assert response.status_code == 503, response.text
        assert response.json()["error"] in {"lobby_unavailable", "redis_unavailable", "service_unavailable"}
        assert "try again" in response.json()["detail"]
        assert response.headers["retry-after"]
    assert readiness.status_code == 503
    assert readiness.json()["checks"]["redis"].startswith("unavailable")
    # Back up (empty: it keeps nothing on disk): sign in again, and the lobby works with no restart.
    await api.sign_in("owner")
    again = await api.request("POST", f"{base}/request-entry", json={"username": "Zoe"})
    assert again.status_code == 200
    listed = await api.request("GET", f"{base}/waiting-participants", user="owner")
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert (await api.request("GET", "/readyz")).status_code == 200


async def test_with_redis_down_the_anonymous_join_reads_the_database_and_no_room_can_change(
    outage_api: tuple[Api, Redis],
) -> None:
    """No copy can be confirmed without the stamps: the join reads the room as it is, every time."""
    api, redis = outage_api
    room = await api.create_room("owner", "Town hall")
    url = f"/api/v1/rooms/{room['slug']}"
    for _ in range(2):  # the process holds a copy
        assert (await api.request("GET", url)).status_code == 200
    redis.stop()
    try:
        joined = [await api.request("GET", url) for _ in range(2)]
        changed = await api.request("PATCH", url, user="owner", json={"access_level": "restricted"})
    finally:
        redis.start()
    for response in joined:
        assert response.status_code == 200, response.text
        assert response.json()["connection"]["token"]
    assert changed.status_code == 503, changed.text  # nothing is changed while the stamps are down
    assert (await api.request("GET", url)).json()["access_level"] == "public"


async def test_a_join_and_the_waiting_list_cost_one_round_trip_besides_the_session(
    api_with: Any, redis_url: str
) -> None:
    """On a process that holds the room (and the caller's role): no database, and one round trip to
    Redis that checks the room's stamp (with the caller's bars, or reading the page, in the same step)."""
    async with api_with(redis_url=redis_url) as api:
        await api.sign_in("owner")
        public = await api.create_room("owner", "Town hall")
        restricted = await api.create_room("owner", "Board", access_level="restricted")
        await api.grant("owner", restricted["id"], "member", "member")
        requests = {
            "anonymous join": ("GET", f"/api/v1/rooms/{public['slug']}", None),
            "member join": ("GET", f"/api/v1/rooms/{restricted['id']}", "member"),
            "waiting list": ("GET", f"/api/v1/rooms/{restricted['id']}/waiting-participants", "owner"),
        }

        async def round_trips() -> dict[str, list[str]]:
            seen = {}
            for name, (method, url, user) in requests.items():
                async with monitored(redis_url, from_clients_only=True) as commands:
                    response = await api.request(method, url, user=user)
                assert response.status_code == 200, response.text
                seen[name] = commands
            return seen

        await round_trips()  # the copies are taken, the scripts loaded into Redis, the bars cached
        warm = await round_trips()
        for n in range(20):
            await api.request("POST", f"/api/v1/rooms/{restricted['id']}/request-entry", json={"username": f"G {n}"})
        assert warm == await round_trips()
    assert warm["anonymous join"] == ["EVALSHA"]  # the room's stamp and its door, in one script
    # The session read (GET; stored again only when changed or a while after its last renewal), then
    # one script: the stamp and the caller's bars, or the stamp and the page.
    assert warm["member join"] == ["GET", "EVALSHA"]
    assert warm["waiting list"] == ["GET", "EVALSHA"]


async def test_an_unchanged_session_is_stored_again_only_once_its_renewal_is_due(
    api_with: Any, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with api_with(redis_url=redis_url) as api:
        await api.sign_in("owner")
        async with monitored(redis_url, from_clients_only=True) as lately:
            assert (await api.request("GET", "/api/v1/users/me", user="owner")).status_code == 200
        monkeypatch.setattr(sessions, "RENEW_AFTER_SECONDS", 0)  # its renewal is due: stored, expiry slid
        async with monitored(redis_url, from_clients_only=True) as due:
            assert (await api.request("GET", "/api/v1/users/me", user="owner")).status_code == 200
        assert (await api.request("GET", "/api/v1/users/me", user="owner")).status_code == 200  # still valid
    assert lately == ["GET"]
    assert due == ["GET", "SET"]
