"""The host in control of the door, end to end: lock, end for everyone, capacity, send back to the lobby.

Real PostgreSQL and Redis, LiveKit's wire double; the SFU's webhooks are signed as LiveKit signs them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from dishka import Provider, Scope, provide

from meet.domain.shared.clock import Clock
from tests.api.conftest import Api
from tests.api.test_lobby_streams import knock as stream_knock
from tests.api.test_lobby_streams import lines, restricted_room
from tests.api.test_recordings import studio  # noqa: F401 - the recordings' fixture, reused
from tests.support.clock import FakeClock
from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery
from tests.support.served import Served, serve
from tests.support.services import S3


class ClockProvider(Provider):
    """The app's clock, moved by the test (the grace period passes without waiting)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self._clock = clock

    @provide(scope=Scope.APP)
    def clock(self) -> Clock:
        return self._clock


@pytest.fixture
def backing(redis_url: str, fresh_postgres_database: str, livekit: LiveKitServer) -> dict[str, str]:
    return {
        "redis_url": redis_url,
        "database_url": fresh_postgres_database,
        "livekit_url": livekit.url,
        "lobby_records_poll_seconds": "0.05",
    }


async def webhook(api: Api, event: str, room: str, identity: str | None = None) -> None:
    payload: dict[str, Any] = {"event": event, "room": {"name": room}}
    if identity is not None:
        payload["participant"] = {"identity": identity}
    body, headers = signed_delivery(payload)
    response = await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)
    assert response.status_code == 200, response.text


async def knock(api: Api, base: str, name: str = "Zoe", **kwargs: Any) -> dict[str, Any]:
    response = await api.request("POST", f"{base}/request-entry", json={"username": name}, **kwargs)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def poll(api: Api, base: str, credential: str) -> dict[str, Any]:
    response = await api.request("POST", f"{base}/request-entry", headers={"X-Lobby-Credential": credential})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def waiting_count(api: Api, base: str) -> int:
    return int((await api.request("GET", f"{base}/waiting-participants", user="owner")).json()["count"])


async def audited(api: Api, room: str, action: str, times: int = 1) -> list[tuple[str, str | None, str | None]]:
    """The room's audit entries (action, actor, subject; newest first) once ``action`` is there ``times``:
    the lobby's records are moved into the log in the background, so the log is looked at until then (30 s
    at most)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        response = await api.request("GET", f"/api/v1/rooms/{room}/audit", user="owner")
        entries = response.json()["entries"]
        if sum(1 for entry in entries if entry["action"] == action) >= times:
            return [(e["action"], e["actor"]["id"], e["subject"].get("id")) for e in entries]
        assert asyncio.get_running_loop().time() < deadline, [e["action"] for e in entries]
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def meeting(api: Api, **room: Any) -> AsyncIterator[tuple[dict[str, Any], str]]:
    await api.sign_in("owner")
    created = await api.create_room("owner", "Board", access_level="restricted", **room)
    await api.grant("owner", created["id"], "admin", "administrator")
    await api.grant("owner", created["id"], "member", "member")
    yield created, f"/api/v1/rooms/{created['id']}"


async def test_a_locked_room_lets_nobody_new_in_members_included_until_unlocked_or_finished(
    api_with: Any, backing: dict[str, str]
) -> None:
    async with api_with(**backing) as api, meeting(api) as (room, base):
        early = await knock(api, base, "Early")  # waiting before the lock
        assert (await api.request("PUT", f"{base}/lock", user="member")).status_code == 403
        locked = await api.request("PUT", f"{base}/lock", user="admin")
        assert (locked.status_code, locked.json()) == (200, {"locked": True})

        # Nobody new: a knock answers "locked" and makes no entry; a member is held at the door.
        newcomer = await knock(api, base, "Late")
        assert (newcomer["status"], newcomer["livekit"]) == ("locked", None)
        assert await waiting_count(api, base) == 1
        member = (await api.request("GET", base, user="member")).json()
        assert (member.get("livekit"), member["locked"], member["held"]) == (None, True, "locked")
        assert (await knock(api, base, user="member"))["status"] == "locked"
        # Admins still enter, and may still admit whoever was already waiting.
        owner = (await api.request("GET", base, user="owner")).json()
        assert owner["livekit"] is not None
        assert owner["locked"] is True
        admitted = await api.request(
            "POST", f"{base}/waiting-participants/{early['id']}", user="owner", json={"allow": True}
        )
        assert admitted.json()["status"] == "accepted"

        unlocked = await api.request("DELETE", f"{base}/lock", user="owner")
        assert (unlocked.status_code, unlocked.json()) == (200, {"locked": False})
        member = (await api.request("GET", base, user="member")).json()
        assert member["livekit"] is not None
        assert "locked" not in member
        assert (await knock(api, base, "Later"))["status"] == "waiting"

        # The lock ends with the meeting.
        assert (await api.request("PUT", f"{base}/lock", user="owner")).status_code == 200
        assert (await api.request("GET", base, user="member")).json().get("livekit") is None
        await webhook(api, "room_finished", room["id"])
        assert (await api.request("GET", base, user="member")).json()["livekit"] is not None

        metrics = (await api.request("GET", "/metrics")).text
        assert 'meet_room_controls_total{control="lock"} 2.0' in metrics
        assert 'meet_room_door_refusals_total{reason="locked"}' in metrics
        # Each control is an entry of the room's log, by whoever took it (newest first).
        controls = [e for e in await audited(api, room["id"], "room.locked", 2) if e[0].startswith("room.")]
        assert [action for action, _, _ in controls][:3] == ["room.locked", "room.unlocked", "room.locked"]
        assert [actor for _, actor, _ in controls][:3] == ["owner", "owner", "admin"]


async def test_ending_the_meeting_disconnects_everyone_and_shuts_the_door_for_the_grace_period(
    api_with: Any, backing: dict[str, str], livekit: LiveKitServer
) -> None:
    clock = FakeClock(datetime.now(UTC))
    async with (
        api_with(ClockProvider(clock), room_end_grace_seconds="30", **backing) as api,
        meeting(api) as (room, base),
    ):
        livekit.add_participant(room["id"], "member", attributes={"room_role": "member"})
        waiting = await knock(api, base, "Zoe")
        assert (await api.request("POST", f"{base}/end", user="member")).status_code == 403
        ended = await api.request("POST", f"{base}/end", user="admin")
        assert (ended.status_code, ended.json()) == (200, {"ended": True, "waiting": 1, "grace_seconds": 30})
        assert livekit.participant(room["id"], "member") is None  # the live room was closed
        assert await waiting_count(api, base) == 0

        # Those waiting are told, and nobody but an admin gets in during the grace period.
        assert (await poll(api, base, waiting["credential"]))["status"] == "ended"
        assert (await knock(api, base, "Max"))["status"] == "ended"
        refused = await api.request("GET", base, user="member")
        assert (refused.status_code, refused.json()["error"]) == (409, "meeting_ended")
        clock.advance(29)
        assert (await api.request("GET", base, user="member")).status_code == 409

        clock.advance(2)  # the grace period is over
        assert (await api.request("GET", base, user="member")).json()["livekit"] is not None
        assert (await knock(api, base, "Ann"))["status"] == "waiting"

        # An admin's join opens an ended meeting again at once.
        assert (await api.request("POST", f"{base}/end", user="owner")).json()["waiting"] == 1
        assert (await api.request("GET", base, user="member")).status_code == 409
        assert (await api.request("GET", base, user="owner")).json()["livekit"] is not None
        assert (await api.request("GET", base, user="member")).json()["livekit"] is not None
        controls = [e[:2] for e in await audited(api, room["id"], "room.reopened") if e[0].startswith("room.")]
        # (The log orders entries by their time, which this test's clock gave; the set is what matters.)
        assert sorted(controls) == [
            ("room.created", "owner"),
            ("room.ended", "admin"),
            ("room.ended", "owner"),
            ("room.reopened", "owner"),
        ]


async def test_capacity_is_counted_from_webhooks_across_two_api_processes(
    api_with: Any, backing: dict[str, str]
) -> None:
    async with (
        api_with(room_max_participants="3", **backing) as first,
        api_with(room_max_participants="3", **backing) as second,
        meeting(first, configuration={"max_participants": 2}) as (room, base),
    ):
        await first.grant("owner", room["id"], "other", "member")
        for api in (first, second):
            for user in ("owner", "member", "other"):
                await api.sign_in(user)
        # One participant told to each process: the count is the room's, not a process's.
        await webhook(first, "participant_joined", room["id"], "someone")
        await webhook(second, "participant_joined", room["id"], "member")
        await webhook(second, "participant_joined", room["id"], "member")  # told twice, counted once
        full = await first.request("GET", base, user="other")
        assert (full.status_code, full.json()["error"]) == (409, "room_full")
        assert (await second.request("GET", base, user="member")).json()["livekit"] is not None  # already in
        assert (await first.request("GET", base, user="owner")).json()["livekit"] is not None  # a host always

        waiting = [await knock(second, base, name) for name in ("Ann", "Bob", "Cid")]
        refused = await first.request(
            "POST", f"{base}/waiting-participants/{waiting[0]['id']}", user="owner", json={"allow": True}
        )
        assert (refused.status_code, refused.json()["error"]) == (409, "room_full")

        await webhook(second, "participant_left", room["id"], "someone")
        # One seat: admit-all admits the first to arrive and leaves the others waiting.
        admitted = await first.request("POST", f"{base}/waiting-participants/admit-all", user="owner")
        assert admitted.json() == {"admitted": 1}
        assert (await poll(second, base, waiting[0]["credential"]))["status"] == "accepted"
        assert [(await poll(first, base, w["credential"]))["status"] for w in waiting[1:]] == ["waiting"] * 2
        # The admitted one holds their seat until they join: nobody else fits meanwhile.
        assert (await second.request("GET", base, user="other")).status_code == 409
        await webhook(first, "participant_joined", room["id"], waiting[0]["id"])
        await webhook(first, "participant_left", room["id"], "member")
        assert (await second.request("GET", base, user="other")).json()["livekit"] is not None

        await webhook(second, "participant_joined", room["id"], "late")  # full again
        assert (await first.request("GET", base, user="other")).status_code == 409
        await webhook(first, "room_finished", room["id"])  # the count ends with the meeting
        assert (await first.request("GET", base, user="other")).json()["livekit"] is not None


async def test_a_guest_sent_back_waits_again_with_the_same_id_until_admitted_again(
    api_with: Any, backing: dict[str, str], livekit: LiveKitServer
) -> None:
    async with api_with(**backing) as api, meeting(api) as (room, base):
        guest = await knock(api, base, "Zoe")
        await api.request("POST", f"{base}/waiting-participants/{guest['id']}", user="owner", json={"allow": True})
        assert (await poll(api, base, guest["credential"]))["livekit"] is not None
        livekit.add_participant(room["id"], guest["id"])
        await webhook(api, "participant_joined", room["id"], guest["id"])

        path = f"{base}/participants/{guest['id']}/send-to-lobby"
        assert (await api.request("POST", path, user="member")).status_code == 403
        sent = await api.request("POST", path, user="admin")
        assert sent.status_code == 200, sent.text
        assert sent.json() == {"identity": guest["id"], "status": "waiting", "participant_id": guest["id"]}
        assert livekit.participant(room["id"], guest["id"]) is None  # out of the live room at once
        again = await poll(api, base, guest["credential"])  # same credential
        assert (again["id"], again["status"], again["livekit"]) == (guest["id"], "waiting", None)
        assert await waiting_count(api, base) == 1

        # Connecting again with the token they still hold: removed again.
        livekit.add_participant(room["id"], guest["id"])
        await webhook(api, "participant_joined", room["id"], guest["id"])
        assert livekit.participant(room["id"], guest["id"]) is None

        readmitted = await api.request(
            "POST", f"{base}/waiting-participants/{guest['id']}", user="owner", json={"allow": True}
        )
        assert (readmitted.status_code, readmitted.json()["status"]) == (200, "accepted")  # a new decision
        assert (await poll(api, base, guest["credential"]))["livekit"] is not None
        sent_back = [
            e
            for e in await audited(api, room["id"], "participant.sent_to_lobby")
            if e[0] == "participant.sent_to_lobby"
        ]
        assert sent_back == [("participant.sent_to_lobby", "admin", guest["id"])]


async def test_a_member_sent_back_must_knock_and_enters_directly_again_once_admitted(
    api_with: Any, backing: dict[str, str], livekit: LiveKitServer
) -> None:
    async with api_with(**backing) as api, meeting(api) as (room, base):
        livekit.add_participant(room["id"], "member", attributes={"room_role": "member"})
        sent = await api.request("POST", f"{base}/participants/member/send-to-lobby", user="owner")
        assert sent.json() == {"identity": "member", "status": "suspended", "participant_id": None}
        assert livekit.participant(room["id"], "member") is None
        held = (await api.request("GET", base, user="member")).json()
        assert (held.get("livekit"), held["held"]) == (None, "sent_to_lobby")

        knocked = await knock(api, base, user="member")
        assert knocked["status"] == "waiting"
        assert await waiting_count(api, base) == 1
        admitted = await api.request(
            "POST", f"{base}/waiting-participants/{knocked['id']}", user="owner", json={"allow": True}
        )
        assert admitted.json()["status"] == "accepted"
        assert (await api.request("GET", base, user="member")).json()["livekit"] is not None

        missing = await api.request("POST", f"{base}/participants/nobody/send-to-lobby", user="owner")
        assert (missing.status_code, missing.json()["error"]) == (404, "participant_not_in_room")
        public = await api.create_room("owner", "Open", access_level="public")
        livekit.add_participant(public["id"], "member")
        no_lobby = await api.request(
            "POST", f"/api/v1/rooms/{public['id']}/participants/member/send-to-lobby", user="owner"
        )
        assert (no_lobby.status_code, no_lobby.json()["error"]) == (409, "room_has_no_lobby")


async def test_ending_the_meeting_stops_its_recording(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],  # noqa: F811 - the fixture imported above
) -> None:
    api, room, livekit, _ = studio
    started = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/recordings", user="owner", json={"mode": "screen_recording"}
    )
    assert started.status_code == 201, started.text
    assert (await api.request("POST", f"/api/v1/rooms/{room['id']}/end", user="admin")).status_code == 200
    recording = (await api.request("GET", f"/api/v1/recordings/{started.json()['id']}", user="owner")).json()
    assert recording["status"] == "stopped"
    assert livekit.participant(room["id"], "owner") is None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis_url: str, livekit_server: LiveKitServer) -> Iterator[Served]:
    """``meet serve`` on Redis and LiveKit's double: what a browser's EventSource reads."""
    tmp_path = tmp_path_factory.mktemp("door")
    settings = {"redis_url": redis_url, "data_dir": str(tmp_path / "var"), "livekit_url": livekit_server.url}
    with serve(tmp_path, timeout=90, **settings) as running:
        yield running


async def test_a_waiting_stream_hears_the_meeting_end_from_another_request(served: Served) -> None:
    async with restricted_room(served) as (client, base, owner):
        zoe = await stream_knock(client, base, "Zoe")
        headers = {"X-Lobby-Credential": zoe["credential"]}
        async with client.stream("GET", f"{base}/request-entry/events", headers=headers) as stream:
            sse = stream.aiter_lines()
            assert '"status":"waiting"' in (await lines(sse, "data:"))[-1]
            ended = await client.post(f"{base}/end", headers=owner)
            assert ended.status_code == 200, ended.text
            told = await lines(sse, "data:")
            assert told[-3:] == ["id: ended", "event: ended", 'data: {"status":"ended"}']
