"""Decisions that keep someone out live in PostgreSQL: a Redis restart (it keeps nothing on disk) undoes none."""

from __future__ import annotations

from typing import Any

from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery
from tests.support.services import Redis


async def test_a_removal_and_a_denial_outlive_a_redis_restart(
    api_with: Any, disposable_redis: Redis, fresh_postgres_database: str, livekit: LiveKitServer
) -> None:
    settings = {"redis_url": disposable_redis.url, "database_url": fresh_postgres_database, "livekit_url": livekit.url}
    async with api_with(**settings) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        await api.grant("owner", room["id"], "member", "member")
        base = f"/api/v1/rooms/{room['id']}"
        livekit.add_participant(room["id"], "member", attributes={"room_role": "member"})
        assert (await api.request("DELETE", f"{base}/participants/member", user="owner")).status_code == 204
        knocked = (await api.request("POST", f"{base}/request-entry", json={"username": "Max"})).json()
        denied = await api.request(
            "POST", f"{base}/waiting-participants/{knocked['id']}", user="owner", json={"allow": False}
        )
        assert denied.json()["status"] == "denied"

        disposable_redis.stop()
        disposable_redis.start()  # empty: every session, entry and cached bar is gone

        await api.sign_in("owner")
        await api.sign_in("member")
        assert "livekit" not in (await api.request("GET", base, user="member")).json()
        rejoin = await api.request("POST", f"{base}/request-entry", user="member", json={})
        assert rejoin.status_code == 200
        assert rejoin.json()["status"] == "denied"
        assert rejoin.json()["livekit"] is None
        again = await api.request(
            "POST", f"{base}/request-entry", headers={"X-Lobby-Credential": knocked["credential"]}
        )
        assert again.status_code == 200
        assert again.json()["status"] == "denied"
        assert again.json()["livekit"] is None
        listed = (await api.request("GET", f"{base}/waiting-participants", user="owner")).json()
        assert listed["count"] == 0  # neither is waiting again as a newcomer

        # A reconnection with the old LiveKit token is removed again too.
        livekit.add_participant(room["id"], "member")
        body, headers = signed_delivery(
            {"event": "participant_joined", "room": {"name": room["id"]}, "participant": {"identity": "member"}}
        )
        assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)).status_code == 200
        assert livekit.participant(room["id"], "member") is None

        # Someone else knocking is still welcome.
        newcomer = await api.request("POST", f"{base}/request-entry", json={"username": "Ann"})
        assert newcomer.json()["status"] == "waiting"
