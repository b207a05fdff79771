"""A lobby decision survives the death of the process that made it: ``meet serve`` is killed (SIGKILL)
after the decision and before it moved the decision's record; another process finds the record in the
room's stream and stores it in the audit log. On one Redis and on a Redis Cluster."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis, RedisCluster

from meet.adapters.redis.client import open_redis_cluster
from tests.support.served import serve


async def redis_for(backend: str, request: pytest.FixtureRequest) -> tuple[dict[str, str], Redis | RedisCluster]:
    if backend == "redis-cluster":
        url = str(request.getfixturevalue("redis_cluster_url"))
        cluster = await open_redis_cluster(url)
        await cluster.flushdb()
        return {"redis_url": url, "redis_cluster": "true"}, cluster
    url = str(request.getfixturevalue("redis_url"))
    single = Redis.from_url(url)
    await single.flushdb()
    return {"redis_url": url}, single


@pytest.mark.timeout(400)  # two server starts on a busy machine
@pytest.mark.parametrize("backend", ["redis", "redis-cluster"])
async def test_a_decision_recorded_by_a_killed_process_reaches_the_audit_log(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, fresh_postgres_database: str
) -> None:
    stores, redis = await redis_for(backend, request)
    base_settings = {**stores, "database_url": fresh_postgres_database, "data_dir": str(tmp_path / "var")}
    try:
        # The first process never moves records (its first sweep would come in an hour).
        with serve(
            tmp_path, log=tmp_path / "a.log", timeout=150, lobby_records_poll_seconds="3600", **base_settings
        ) as a:
            async with httpx.AsyncClient(base_url=a.base_url, timeout=30) as client:
                signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": "owner"})
                owner = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
                client.cookies.clear()
                room = (
                    await client.post(
                        "/api/v1/rooms", json={"name": "Board", "access_level": "restricted"}, headers=owner
                    )
                ).json()
                path = f"/api/v1/rooms/{room['id']}"
                knocked = (await client.post(f"{path}/request-entry", json={"username": "Zoe"})).json()
                client.cookies.clear()
                decided = await client.post(
                    f"{path}/waiting-participants/{knocked['id']}", json={"allow": True}, headers=owner
                )
                assert decided.status_code == 200, decided.text
            a.process.kill()
            a.process.wait(timeout=10)
        stream = f"meet:lobby:{{{room['id']}}}:audit"
        assert await redis.xlen(stream) == 2  # the knock's and the decision's records, not moved yet

        with serve(
            tmp_path, log=tmp_path / "b.log", timeout=150, lobby_records_poll_seconds="0.2", **base_settings
        ) as b:
            async with httpx.AsyncClient(base_url=b.base_url, timeout=30, headers=owner) as client:
                deadline = time.monotonic() + 60
                while True:
                    page: Any = (await client.get(f"{path}/audit")).json()
                    actions = [entry["action"] for entry in page["entries"]]
                    if "lobby.admitted" in actions:
                        break
                    assert time.monotonic() < deadline, page
                    await asyncio.sleep(0.2)
        assert actions == ["lobby.admitted", "lobby.knocked", "room.created"]
        admitted = page["entries"][0]
        assert admitted["subject"] == {"kind": "participant", "id": knocked["id"], "name": "Zoe"}
        assert admitted["actor"] == {"kind": "user", "id": "owner"}
        assert await redis.exists(stream) == 0  # stored, then acknowledged and dropped
    finally:
        await redis.aclose()
