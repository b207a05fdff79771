"""A room's audit log through the API, on PostgreSQL: what took effect is listed once, newest first, to its
owners and administrators; ``meet audit verify`` (the installed command) names a deleted or edited row."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.api.conftest import Api, running_api
from tests.api.conftest import test_settings as settings_for
from tests.support.served import MEET, clean_env


@pytest.fixture
async def pg_api(tmp_path: Path, fresh_postgres_database: str) -> AsyncIterator[Api]:
    async with running_api(settings_for(tmp_path, database_url=fresh_postgres_database)) as running:
        yield running


async def audit(api: Api, room_id: str, user: str | None = "alice", **params: Any) -> Any:
    response = await api.request("GET", f"/api/v1/rooms/{room_id}/audit", user=user, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def busy_room(api: Api) -> dict[str, Any]:
    await api.sign_in("alice", full_name="Alice")
    room = await api.create_room("alice", "Audited")
    response = await api.request("PATCH", f"/api/v1/rooms/{room['id']}", user="alice", json={"name": "Audited 2"})
    assert response.status_code == 200, response.text
    access = await api.grant("alice", room["id"], "bob", "member")
    response = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}/accesses/{access['id']}", user="alice", json={"role": "administrator"}
    )
    assert response.status_code == 200, response.text
    response = await api.request("DELETE", f"/api/v1/rooms/{room['id']}/accesses/{access['id']}", user="alice")
    assert response.status_code == 204, response.text
    return room


async def test_each_change_is_listed_once_newest_first_with_its_actor_and_subject(pg_api: Api) -> None:
    room = await busy_room(pg_api)
    page = await audit(pg_api, room["id"])
    assert page["next"] is None
    entries = page["entries"]
    assert [entry["action"] for entry in entries] == [
        "access.revoked",
        "access.changed",
        "access.granted",
        "room.updated",
        "room.created",
    ]
    assert set(entries[0]) == {"id", "at", "actor", "action", "subject", "details", "hash"}
    assert all(entry["actor"] == {"kind": "user", "id": "alice"} for entry in entries)
    assert entries[0]["subject"] == {"kind": "user", "id": "bob", "name": "Bob"}
    assert entries[1]["details"]["role"] == "administrator"
    assert entries[1]["details"]["previous_role"] == "member"
    assert entries[3]["details"]["name"] == "Audited 2"
    assert len({entry["hash"] for entry in entries}) == len(entries)


async def test_pages_filters_and_times_given_back(pg_api: Api) -> None:
    room = await busy_room(pg_api)
    everything = (await audit(pg_api, room["id"]))["entries"]
    first = await audit(pg_api, room["id"], limit=2)
    assert [entry["id"] for entry in first["entries"]] == [entry["id"] for entry in everything[:2]]
    second = await audit(pg_api, room["id"], limit=2, cursor=first["next"])
    third = await audit(pg_api, room["id"], limit=2, cursor=second["next"])
    assert [e["id"] for e in first["entries"] + second["entries"] + third["entries"]] == [e["id"] for e in everything]
    assert third["next"] is None

    granted = await audit(pg_api, room["id"], action="access.granted")
    assert [entry["action"] for entry in granted["entries"]] == ["access.granted"]

    # ``at`` values are accepted back as bounds, inclusive.
    middle = everything[2]["at"]
    since = await audit(pg_api, room["id"], since=middle)
    assert [entry["id"] for entry in since["entries"]] == [entry["id"] for entry in everything[:3]]
    until = await audit(pg_api, room["id"], until=middle)
    assert [entry["id"] for entry in until["entries"]] == [entry["id"] for entry in everything[2:]]


async def test_only_owners_and_administrators_read_it_and_bad_input_is_named(pg_api: Api) -> None:
    room = await busy_room(pg_api)
    await pg_api.grant("alice", room["id"], "carol", "member")
    await pg_api.grant("alice", room["id"], "dave", "administrator")
    member = await pg_api.request("GET", f"/api/v1/rooms/{room['id']}/audit", user="carol")
    assert member.status_code == 403
    anonymous = await pg_api.request("GET", f"/api/v1/rooms/{room['id']}/audit")
    assert anonymous.status_code == 401
    assert (await audit(pg_api, room["id"], user="dave"))["entries"][0]["action"] == "access.granted"
    for params, field in (
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"action": "room.exploded"}, "action"),
        ({"since": "yesterday"}, "since"),
    ):
        response = await pg_api.request("GET", f"/api/v1/rooms/{room['id']}/audit", user="alice", params=params)
        assert response.status_code == 422, response.text
        assert response.json()["fields"][field]
    response = await pg_api.request("GET", f"/api/v1/rooms/{room['id']}/audit", user="alice", params={"limit": 0})
    assert response.status_code == 422
    inverted = {"since": "2026-12-06T12:00:00Z", "until": "2026-12-05T12:00:00Z"}
    empty = await pg_api.request("GET", f"/api/v1/rooms/{room['id']}/audit", user="alice", params=inverted)
    assert (empty.status_code, empty.json()) == (200, {"entries": [], "next": None})


def verify(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(MEET_DATABASE_URL=database_url, MEET_DATA_DIR=str(tmp_path))
    return subprocess.run(
        [MEET, "audit", "verify", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90, check=False
    )


async def test_meet_audit_verify_names_a_deleted_middle_row_and_an_edited_row(
    pg_api: Api, tmp_path: Path, fresh_postgres_database: str
) -> None:
    room = await busy_room(pg_api)
    other = await pg_api.create_room("alice", "Untouched")
    intact = await asyncio.to_thread(verify, tmp_path, fresh_postgres_database)
    assert intact.returncode == 0, intact.stderr
    connection = await asyncpg.connect(fresh_postgres_database.replace("+asyncpg", ""))
    try:
        await connection.execute("DELETE FROM meet_audit_entry WHERE room_id = $1 AND seq = 3", _uuid(room["id"]))
        deleted = await asyncio.to_thread(verify, tmp_path, fresh_postgres_database, "--room", room["id"])
        assert deleted.returncode == 1
        assert f"room {room['id']}: entry 3: missing" in deleted.stderr
        assert (
            await asyncio.to_thread(verify, tmp_path, fresh_postgres_database, "--room", other["id"])
        ).returncode == 0

        await connection.execute(
            "UPDATE meet_audit_entry SET actor_id = 'mallory' WHERE room_id = $1 AND seq = 1", _uuid(other["id"])
        )
        edited = await asyncio.to_thread(verify, tmp_path, fresh_postgres_database, "--room", other["id"])
        assert edited.returncode == 1
        assert f"room {other['id']}: entry 1: its content does not match its hash (edited)" in edited.stderr
        everything = await asyncio.to_thread(verify, tmp_path, fresh_postgres_database)
        assert everything.returncode == 1
        assert "audit chain broken" in everything.stderr
    finally:
        await connection.close()


def _uuid(value: str) -> Any:
    import uuid  # noqa: PLC0415

    return uuid.UUID(value)


async def test_lobby_decisions_reach_the_log_from_the_in_memory_lobby(api_with: Any) -> None:
    async with api_with(lobby_records_poll_seconds="0.05") as api:
        await api.sign_in("alice")
        room = await api.create_room("alice", "Hall", access_level="restricted")
        base = f"/api/v1/rooms/{room['id']}"
        zoe = (await api.request("POST", f"{base}/request-entry", json={"username": "Zoe"})).json()
        max_ = (await api.request("POST", f"{base}/request-entry", json={"username": "Max"})).json()
        await api.request("POST", f"{base}/request-entry", headers={"X-Lobby-Credential": zoe["credential"]})  # poll
        for allow in (True, False):  # the second decision is refused: not logged
            await api.request("POST", f"{base}/waiting-participants/{zoe['id']}", user="alice", json={"allow": allow})
        await api.request("POST", f"{base}/waiting-participants/{max_['id']}", user="alice", json={"allow": False})
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            entries = (await audit(api, room["id"]))["entries"]
            if len(entries) >= 5:
                break
            assert asyncio.get_running_loop().time() < deadline, entries
            await asyncio.sleep(0.05)
        assert [entry["action"] for entry in entries] == [
            "lobby.denied",
            "lobby.admitted",
            "lobby.knocked",
            "lobby.knocked",
            "room.created",
        ]
        assert entries[1]["subject"] == {"kind": "participant", "id": zoe["id"], "name": "Zoe"}
        assert entries[0]["subject"]["id"] == max_["id"]
