"""Webhooks the way an operator runs them: endpoints registered with the installed ``meet webhooks``
command, two real ``meet serve`` processes on one PostgreSQL, each delivering the one outbox in the
background; every message reaches the receiver once, signed as the ``standardwebhooks`` package checks."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from standardwebhooks import Webhook

from tests.support.receiver import webhook_receiver
from tests.support.served import MEET, clean_env, serve

ROOMS_PER_PROCESS = 15


def meet(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(**{f"MEET_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run([MEET, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False)


def printed(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line.partition(": ")[0]: line.partition(": ")[2] for line in result.stdout.splitlines()}


async def create_rooms(base_url: str, owner: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": owner})
        cookie = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
        client.cookies.clear()
        for n in range(count):
            created = await client.post("/api/v1/rooms", json={"name": f"{owner} {n}"}, headers=cookie)
            assert created.status_code == 201, created.text


async def outbox_rows(database_url: str) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        return list(await connection.fetch("SELECT event_id, attempts, delivered_at FROM meet_webhook_outbox"))
    finally:
        await connection.close()


@pytest.mark.timeout(400)  # five command runs and two server starts, each a few seconds on a busy machine
async def test_two_api_processes_deliver_one_outbox_without_sending_anything_twice(
    tmp_path: Path, fresh_postgres_database: str
) -> None:
    database = {"database_url": fresh_postgres_database, "data_dir": str(tmp_path / "var")}
    refused = await asyncio.to_thread(
        meet, tmp_path, "webhooks", "add", "https://127.0.0.1/hook", "--events", "room.created", **database
    )
    assert refused.returncode == 2
    assert "loopback" in refused.stderr
    settings = {**database, "webhook_allowed_networks": "127.0.0.1/32", "webhook_poll_seconds": "0.1"}
    with webhook_receiver() as receiver:
        added = await asyncio.to_thread(
            meet, tmp_path, "webhooks", "add", receiver.url, "--events", "room.created,access.granted", **settings
        )
        assert added.returncode == 0, added.stderr
        endpoint = printed(added)
        assert endpoint["secret"].startswith("whsec_")
        listed = await asyncio.to_thread(meet, tmp_path, "webhooks", "list", **settings)
        assert endpoint["id"] in listed.stdout
        assert endpoint["secret"] not in listed.stdout

        with (
            serve(tmp_path, log=tmp_path / "a.log", timeout=150, **settings) as first,
            serve(tmp_path, log=tmp_path / "b.log", timeout=150, **settings) as second,
        ):
            await asyncio.gather(
                create_rooms(first.base_url, "alice", ROOMS_PER_PROCESS),
                create_rooms(second.base_url, "bob", ROOMS_PER_PROCESS),
            )
            expected = 2 * ROOMS_PER_PROCESS
            deadline = time.monotonic() + 60
            while True:
                rows = await outbox_rows(fresh_postgres_database)
                if len(rows) == expected and all(row["delivered_at"] is not None for row in rows):
                    break
                assert time.monotonic() < deadline, f"undelivered after 60 s: {rows}"
                await asyncio.sleep(0.1)
        got = receiver.received
        assert all(row["attempts"] == 1 for row in rows)  # each claimed once, by one process
        assert len(got) == expected
        assert len({r.headers["webhook-id"] for r in got}) == expected
        assert {r.headers["webhook-id"] for r in got} == {str(row["event_id"]) for row in rows}
        for request in got:
            payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)
            assert payload["type"] == "room.created"
        logs = (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
        assert endpoint["secret"] not in logs
        assert got[0].headers["webhook-signature"] not in logs
