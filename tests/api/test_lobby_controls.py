"""The host's controls of the door, end to end against ``meet serve`` (PostgreSQL, Redis, LiveKit's wire
double): a denial's reason, deny-all, the block of repeated knocking (by participant, by address, through a
Redis restart), and messages to those waiting. Client addresses come as a proxy sends them
(``X-Forwarded-For`` from 127.0.0.1, which ``meet serve`` trusts by default)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_lobby_push import STEP_TIMEOUT, next_event, sse
from tests.support.livekit_server import LiveKitServer
from tests.support.served import Served, serve
from tests.support.services import Redis, ServiceNotFound

DENIED_SECONDS = 1  # short, so the same participant can be denied again within a test


@pytest.fixture
def served(
    tmp_path: Path, disposable_redis: Redis, fresh_postgres_database: str, livekit: LiveKitServer
) -> Iterator[Served]:
    settings = {
        "redis_url": disposable_redis.url,
        "database_url": fresh_postgres_database,
        "livekit_url": livekit.url,
        "data_dir": str(tmp_path / "var"),
        "lobby_denied_ttl_seconds": str(DENIED_SECONDS),
        "lobby_denials_before_block": "3",
        "lobby_messages_per_minute": "3",
    }
    try:
        with serve(tmp_path, timeout=120, **settings) as running:
            yield running
    except ServiceNotFound as error:
        pytest.fail(str(error))


class Door:
    """A restricted room on ``meet serve``, its owner, and knocks from chosen client addresses."""

    def __init__(self, client: httpx.AsyncClient, base: str, owner: dict[str, str], member: dict[str, str]) -> None:
        self.client, self.base, self.owner, self.member = client, base, owner, member

    async def knock(self, address: str, credential: str | None = None, name: str = "Zoe") -> httpx.Response:
        headers = {"X-Forwarded-For": address, **({"X-Lobby-Credential": credential} if credential else {})}
        try:
            return await self.client.post(f"{self.base}/request-entry", json={"username": name}, headers=headers)
        finally:
            self.client.cookies.clear()

    async def waiting(self, address: str, name: str = "Zoe") -> dict[str, Any]:
        knocked = await self.knock(address, name=name)
        assert knocked.status_code == 200, knocked.text
        assert knocked.json()["status"] == "waiting"
        return dict(knocked.json())

    async def deny(self, participant_id: str, reason: str | None = None) -> httpx.Response:
        body: dict[str, Any] = {"allow": False, **({"reason": reason} if reason is not None else {})}
        return await self.client.post(
            f"{self.base}/waiting-participants/{participant_id}", json=body, headers=self.owner
        )

    async def say(
        self, text: str, participant_id: str | None = None, as_: dict[str, str] | None = None
    ) -> httpx.Response:
        body = {"text": text, **({"participant_id": participant_id} if participant_id else {})}
        return await self.client.post(
            f"{self.base}/waiting-participants/message", json=body, headers=self.owner if as_ is None else as_
        )

    async def knock_again_once_the_denial_ends(self, credential: str, address: str) -> dict[str, Any]:
        """The same participant knocking once its denial's short bar has ended (a new waiting entry)."""
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                again = await self.knock(address, credential)
                assert again.status_code == 200, again.text
                if again.json()["status"] == "waiting":
                    return dict(again.json())
                await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def door(served: Served) -> AsyncIterator[Door]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=STEP_TIMEOUT) as client:
        sessions = {}
        for sub in ("owner", "member"):
            signed_in = await client.post("/api/v1/auth/dev-login", json={"sub": sub})
            sessions[sub] = {"Cookie": f"meet_session={signed_in.cookies['meet_session']}"}
            client.cookies.clear()
        room = await client.post(
            "/api/v1/rooms",
            json={"name": f"Board {uuid.uuid4().hex[:8]}", "access_level": "restricted"},
            headers=sessions["owner"],
        )
        assert room.status_code == 201, room.text
        yield Door(client, f"/api/v1/rooms/{room.json()['id']}", sessions["owner"], sessions["member"])


async def test_a_denials_reason_reaches_the_waiting_persons_stream_and_poll(served: Served) -> None:
    async with door(served) as d:
        zoe = await d.waiting("198.51.100.1")
        headers = {"X-Lobby-Credential": zoe["credential"]}
        async with d.client.stream("GET", f"{d.base}/request-entry/events", headers=headers) as response:
            events = sse(response)
            assert (await next_event(events, "status"))[1]["status"] == "waiting"
            refused = await d.client.post(
                f"{d.base}/waiting-participants/{zoe['id']}", json={"allow": True, "reason": "x"}, headers=d.owner
            )
            assert refused.status_code == 422, refused.text  # a reason goes with a denial only
            assert refused.json()["fields"] == {"reason": "A reason goes with a denial only."}
            too_long = await d.deny(zoe["id"], "x" * 201)
            assert too_long.status_code == 422, too_long.text
            denied = await d.deny(zoe["id"], "Private\u202e meeting,\x07 sorry ")  # cleaned like a display name
            assert denied.status_code == 200, denied.text
            _, status = await next_event(events, "status")
        assert (status["status"], status["reason"]) == ("denied", "Private meeting, sorry")
        poll = await d.knock("198.51.100.1", zoe["credential"])
        assert (poll.json()["status"], poll.json()["reason"]) == ("denied", "Private meeting, sorry")
        assert poll.json()["livekit"] is None


async def test_deny_all_answers_the_count_and_denies_everyone_with_the_reason(served: Served) -> None:
    async with door(served) as d:
        crowd = [await d.waiting(f"198.51.100.{n}", name=f"Guest {n}") for n in range(1, 5)]
        forbidden = await d.client.post(f"{d.base}/waiting-participants/deny-all", json={}, headers=d.member)
        assert forbidden.status_code == 403
        answered = await d.client.post(
            f"{d.base}/waiting-participants/deny-all", json={"reason": "The meeting is full"}, headers=d.owner
        )
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"denied": 4}
        for n, guest in enumerate(crowd, start=1):
            poll = (await d.knock(f"198.51.100.{n}", guest["credential"])).json()
            assert (poll["status"], poll["reason"], poll["livekit"]) == ("denied", "The meeting is full", None)
        listed = await d.client.get(f"{d.base}/waiting-participants", headers=d.owner)
        assert listed.json()["count"] == 0
        nobody = await d.client.post(f"{d.base}/waiting-participants/deny-all", headers=d.owner)  # no body at all
        assert nobody.json() == {"denied": 0}


async def test_a_participant_denied_three_times_is_blocked_from_any_address_through_a_redis_restart(
    served: Served, disposable_redis: Redis
) -> None:
    async with door(served) as d:
        zoe = await d.waiting("198.51.100.1")
        for n in (2, 3):
            assert (await d.deny(zoe["id"])).status_code == 200
            zoe = await d.knock_again_once_the_denial_ends(zoe["credential"], f"198.51.100.{n}")
        assert (await d.deny(zoe["id"])).status_code == 200  # the third denial within the window
        blocked = await d.knock("198.51.100.4", zoe["credential"])
        assert blocked.status_code == 403, blocked.text
        assert blocked.json()["error"] == "lobby_blocked"
        # Each address was denied once only: a newcomer from any of them is welcome.
        assert (await d.waiting("198.51.100.1", name="Max"))["status"] == "waiting"

        disposable_redis.stop()
        disposable_redis.start()  # empty: every entry, count and cached bar is gone

        async with asyncio.timeout(STEP_TIMEOUT):
            after = await d.knock("198.51.100.5", zoe["credential"])
        assert after.status_code == 403, after.text
        assert after.json()["error"] == "lobby_blocked"


async def test_an_address_with_three_denials_is_blocked_for_newcomers_through_a_redis_restart(
    served: Served, disposable_redis: Redis
) -> None:
    async with door(served) as d:
        for n in range(3):
            guest = await d.waiting("203.0.113.9", name=f"Guest {n}")
            assert (await d.deny(guest["id"])).status_code == 200
        refused = await d.knock("203.0.113.9", name="Another")
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"] == "lobby_blocked"
        assert (await d.waiting("203.0.113.10", name="Neighbour"))["status"] == "waiting"

        disposable_redis.stop()
        disposable_redis.start()

        again = await d.knock("203.0.113.9", name="Yet another")
        assert again.status_code == 403, again.text
        assert again.json()["error"] == "lobby_blocked"


async def test_a_message_reaches_the_streams_at_once_and_the_next_polls(served: Served) -> None:
    async with door(served) as d:
        zoe, max_ = await d.waiting("198.51.100.1"), await d.waiting("198.51.100.2", name="Max")
        headers = {"X-Lobby-Credential": zoe["credential"]}
        async with d.client.stream("GET", f"{d.base}/request-entry/events", headers=headers) as response:
            events = sse(response)
            assert (await next_event(events, "status"))[1]["status"] == "waiting"
            sent = await d.say("We start in\n5 minutes")  # cleaned: the line break is a space
            assert sent.status_code == 200, sent.text
            assert sent.json()["text"] == "We start in 5 minutes"
            event, message = await next_event(events, "message", "status", "gone")
            assert event == "message"
            assert message == {"text": "We start in 5 minutes", "sent_at": sent.json()["sent_at"]}
            to_max = await d.say("Max, you are next", participant_id=max_["id"])
            assert to_max.status_code == 200, to_max.text
            denied = await d.deny(zoe["id"])  # the stream goes on after a message: the decision still comes
            assert denied.status_code == 200
            event, status = await next_event(events, "message", "status")
            assert (event, status["status"]) == ("status", "denied")  # Max's message never reached Zoe
        polled = (await d.knock("198.51.100.2", max_["credential"])).json()
        assert polled["status"] == "waiting"
        assert polled["message"] == {"text": "Max, you are next", "sent_at": to_max.json()["sent_at"]}
        newcomer = await d.waiting("198.51.100.3", name="Ann")
        assert newcomer["message"]["text"] == "We start in 5 minutes"
        decided = (await d.knock("198.51.100.1", zoe["credential"])).json()
        assert decided["message"] is None  # only those waiting are shown messages


async def test_messages_are_validated_admins_only_and_rate_limited(served: Served) -> None:
    async with door(served) as d:
        await d.waiting("198.51.100.1")
        for text in ("", "x" * 501):
            bad = await d.say(text)
            assert bad.status_code == 422, (text, bad.text)
        only_controls = await d.say("\x00\x1b\u202e \n")
        assert only_controls.status_code == 422, only_controls.text
        assert only_controls.json()["error"] == "invalid_input"
        assert (await d.say("hello", as_=d.member)).status_code == 403
        assert (await d.say("hello", as_={})).status_code in {401, 403}
        unknown = await d.say("hello", participant_id=str(uuid.uuid4()))
        assert unknown.status_code == 404, unknown.text
        for n in range(3):
            assert (await d.say(f"message {n}")).status_code == 200
        limited = await d.say("one too many")
        assert limited.status_code == 429, limited.text
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
