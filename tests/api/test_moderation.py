"""Moderation end to end: HTTP in, LiveKit Twirp out, against the wire-level LiveKit double."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from livekit.api import AccessToken, VideoGrants
from livekit.protocol import models

from tests.api.conftest import Api
from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery


@pytest.fixture
async def meeting(api_with: Any, livekit: LiveKitServer) -> AsyncIterator[tuple[Api, dict[str, Any], LiveKitServer]]:
    async with api_with(livekit_url=livekit.url) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        await api.grant("owner", room["id"], "admin", "administrator")
        await api.grant("owner", room["id"], "member", "member")
        await api.sign_in("stranger")
        livekit.add_participant(
            room["id"], "owner", attributes={"room_role": "owner"}, tracks=(("TR_O", "microphone"),)
        )
        livekit.add_participant(room["id"], "admin", attributes={"room_role": "administrator"})
        livekit.add_participant(room["id"], "member", attributes={"room_role": "member"}, tracks=(("TR_M", "camera"),))
        yield api, room, livekit


async def token_of(api: Api, room: dict[str, Any], user: str) -> str:
    """The participant's own LiveKit token, as the API issued it to them."""
    response = await api.request("GET", f"/api/v1/rooms/{room['id']}", user=user)
    return str(response.json()["livekit"]["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_only_admins_see_who_is_in_the_live_room(meeting: tuple[Api, dict[str, Any], LiveKitServer]) -> None:
    api, room, _ = meeting
    path = f"/api/v1/rooms/{room['id']}/participants"
    assert (await api.request("GET", path)).status_code == 401
    assert (await api.request("GET", path, user="stranger")).status_code == 403
    assert (await api.request("GET", path, user="member")).status_code == 403
    # An SFU token is no API token: a bearer request carries no session, and this one is refused as invalid.
    assert (
        await api.request("GET", path, user="member", headers=bearer(await token_of(api, room, "owner")))
    ).status_code == 401
    for admin in ("admin", "owner"):
        response = await api.request("GET", path, user=admin)
        assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    member = next(p for p in body["participants"] if p["identity"] == "member")
    assert member["role"] == "member"
    assert member["tracks"] == [{"sid": "TR_M", "kind": "video", "source": "camera", "muted": False}]


async def test_mute_permission_matrix(meeting: tuple[Api, dict[str, Any], LiveKitServer]) -> None:
    api, room, livekit = meeting
    path = f"/api/v1/rooms/{room['id']}/participants/owner/mute"
    body = {"track_sid": "TR_O"}
    member_token = await token_of(api, room, "member")
    owner_token = await token_of(api, room, "owner")
    other_room = await api.create_room("owner", "Elsewhere")
    foreign_token = await token_of(api, other_room, "member")
    expired = (
        AccessToken("devkey", "secret")
        .with_identity("member")
        .with_grants(VideoGrants(room_join=True, room=room["id"]))
        .with_ttl(timedelta(minutes=-10))
        .to_jwt()
    )
    assert (await api.request("POST", path, json=body)).status_code == 401
    assert (await api.request("POST", path, user="stranger", json=body)).status_code == 403
    assert (await api.request("POST", path, user="member", json=body)).status_code == 403
    # Without everyone_can_mute, no participant token mutes; not even an admin's replayed without its session.
    assert (await api.request("POST", path, json=body, headers=bearer(member_token))).status_code == 403
    assert (await api.request("POST", path, json=body, headers=bearer(owner_token))).status_code == 403
    assert livekit.calls("MutePublishedTrack") == []

    patched = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"configuration": {"everyone_can_mute": True}}
    )
    assert patched.status_code == 200
    assert (await api.request("POST", path, json=body, headers=bearer(foreign_token))).status_code == 403
    assert (await api.request("POST", path, json=body, headers=bearer(expired))).status_code == 401
    assert (await api.request("POST", path, json=body, headers=bearer("not-a-token"))).status_code == 401
    stranger_token = await token_of(api, other_room, "stranger")
    assert (await api.request("POST", path, json=body, headers=bearer(stranger_token))).status_code == 403
    assert livekit.calls("MutePublishedTrack") == []

    muted = await api.request("POST", path, json=body, headers=bearer(member_token))
    assert muted.status_code == 200
    owner = livekit.participant(room["id"], "owner")
    assert owner is not None
    assert owner.tracks[0].muted
    by_admin = await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/participants/member/mute", user="admin", json={"track_sid": "TR_M"}
    )
    assert by_admin.status_code == 200
    bad = await api.request("POST", path, user="admin", json={"track": "TR_O"})
    assert bad.status_code == 422


async def test_a_removed_participant_is_kept_out_while_the_removal_lasts(
    meeting: tuple[Api, dict[str, Any], LiveKitServer],
) -> None:
    api, room, livekit = meeting
    member_path = f"/api/v1/rooms/{room['id']}/participants/member"
    assert (await api.request("DELETE", member_path, user="member")).status_code == 403
    assert (await api.request("DELETE", member_path)).status_code == 401
    assert (await api.request("DELETE", member_path, user="admin")).status_code == 204
    assert livekit.participant(room["id"], "member") is None
    assert "livekit" not in (await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")).json()
    entry = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", user="member", json={})
    assert entry.json()["status"] == "denied"
    assert entry.json()["livekit"] is None

    # LiveKit does not revoke the token: a reconnection is removed again when its webhook arrives.
    livekit.add_participant(room["id"], "member")
    body, headers = signed_delivery(
        {"event": "participant_joined", "room": {"name": room["id"]}, "participant": {"identity": "member"}}
    )
    assert (await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)).status_code == 200
    assert livekit.participant(room["id"], "member") is None
    assert len(livekit.calls("RemoveParticipant")) == 2


async def test_a_removed_anonymous_participant_loses_its_admission(
    meeting: tuple[Api, dict[str, Any], LiveKitServer],
) -> None:
    api, room, livekit = meeting
    knocked = (await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Zoe"})).json()
    await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/waiting-participants/{knocked['id']}", user="owner", json={"allow": True}
    )
    credential = {"X-Lobby-Credential": knocked["credential"]}
    admitted = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", headers=credential)
    assert admitted.json()["livekit"] is not None
    livekit.add_participant(room["id"], knocked["id"])
    removed = await api.request("DELETE", f"/api/v1/rooms/{room['id']}/participants/{knocked['id']}", user="owner")
    assert removed.status_code == 204
    again = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", headers=credential)
    assert again.json()["status"] == "denied"
    assert again.json()["livekit"] is None


async def test_a_promotion_is_saved_and_applied_live_and_refusals(
    meeting: tuple[Api, dict[str, Any], LiveKitServer],
) -> None:
    api, room, livekit = meeting
    await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"configuration": {"can_publish_sources": []}}
    )
    path = f"/api/v1/rooms/{room['id']}/participants"
    promoted = await api.request("PATCH", f"{path}/member", user="admin", json={"role": "administrator"})
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["live_updated"] is True
    live = livekit.participant(room["id"], "member")
    assert live is not None
    assert live.attributes["room_role"] == "administrator"
    assert live.permission.can_publish
    assert live.permission.can_subscribe  # the rest of the permission survived the whole-object replace
    assert len(live.permission.can_publish_sources) == 4
    member_user = await api.sign_in("member")
    accesses = (await api.request("GET", f"/api/v1/rooms/{room['id']}/accesses", user="owner")).json()
    assert {a["user_id"]: a["role"] for a in accesses}[member_user["id"]] == "administrator"

    demoted = await api.request("PATCH", f"{path}/member", user="owner", json={"role": "member"})
    live = livekit.participant(room["id"], "member")
    assert demoted.status_code == 200
    assert live is not None
    assert not live.permission.can_publish
    assert live.attributes["room_role"] == "member"

    refusals = [
        ("member", {"role": "owner"}, 403),
        ("admin", {"role": "member"}, 403),  # yourself
        ("owner", {"role": "member"}, 403),  # an owner is never demoted here
        ("anonymous-id", {"role": "member"}, 422),
        ("member", {"permission": {"hidden": True}}, 422),
        ("member", {"permission": {"recorder": True}}, 422),
        ("member", {"attributes": {"room_role": "owner"}}, 422),
        ("member", {"colour": "red"}, 422),
    ]
    for identity, body, status in refusals:
        user = "admin"
        response = await api.request("PATCH", f"{path}/{identity}", user=user, json=body)
        assert response.status_code == status, (identity, body, response.text)
    assert (await api.request("PATCH", f"{path}/member", user="member", json={"name": "x"})).status_code == 403


async def test_a_live_failure_never_loses_the_saved_role(meeting: tuple[Api, dict[str, Any], LiveKitServer]) -> None:
    api, room, livekit = meeting
    livekit.fail_next("UpdateParticipant", 500, "internal")
    response = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}/participants/member", user="owner", json={"role": "administrator"}
    )
    assert response.status_code == 200
    assert response.json()["live_updated"] is False
    waiting = await api.request("GET", f"/api/v1/rooms/{room['id']}/waiting-participants", user="member")
    assert waiting.status_code == 200  # member is now an administrator of the room


async def test_participants_raise_their_hand_and_rename_themselves_with_their_own_token(
    meeting: tuple[Api, dict[str, Any], LiveKitServer],
) -> None:
    api, room, livekit = meeting
    token = await token_of(api, room, "member")
    path = f"/api/v1/rooms/{room['id']}/participants"
    raised = await api.request("POST", f"{path}/member/hand", json={"raised": True}, headers=bearer(token))
    assert raised.status_code == 200
    assert raised.json()["hand_raised_at"]
    lowered = await api.request("POST", f"{path}/member/hand", json={"raised": False}, headers=bearer(token))
    assert lowered.json()["hand_raised_at"] is None
    live = livekit.participant(room["id"], "member")
    assert live is not None
    assert "handRaisedAt" not in live.attributes
    assert (
        await api.request("POST", f"{path}/owner/hand", json={"raised": True}, headers=bearer(token))
    ).status_code == 403
    assert (await api.request("POST", f"{path}/member/hand", json={"raised": True})).status_code == 401
    renamed = await api.request("POST", f"{path}/member/name", json={"name": "Mia"}, headers=bearer(token))
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Mia"


async def test_renaming_can_be_switched_off(api_with: Any, livekit: LiveKitServer) -> None:
    async with api_with(livekit_url=livekit.url, allow_display_name_changes="false") as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        livekit.add_participant(room["id"], "owner")
        token = await token_of(api, room, "owner")
        response = await api.request(
            "POST", f"/api/v1/rooms/{room['id']}/participants/owner/name", json={"name": "X"}, headers=bearer(token)
        )
        assert response.status_code == 403
        assert response.json()["error"] == "renaming_disabled"


async def test_the_live_room_metadata_follows_the_room(meeting: tuple[Api, dict[str, Any], LiveKitServer]) -> None:
    api, room, livekit = meeting
    response = await api.request("PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"access_level": "trusted"})
    assert response.status_code == 200
    assert json.loads(livekit.metadata[room["id"]])["access_level"] == "trusted"
    livekit.fail_next("UpdateRoomMetadata", 500, "internal")
    failed_live = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"access_level": "public"}
    )
    assert failed_live.status_code == 200
    assert (await api.request("GET", f"/api/v1/rooms/{room['id']}", user="owner")).json()["access_level"] == "public"


async def test_a_knock_notifies_the_admins_in_the_room_and_nobody_else(
    meeting: tuple[Api, dict[str, Any], LiveKitServer],
) -> None:
    api, room, livekit = meeting
    knocked = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Zoe"})
    assert knocked.status_code == 200
    for _ in range(100):  # the notification is sent in the background; wait for it, bounded
        if livekit.calls("SendData"):
            break
        await asyncio.sleep(0.05)
    sent = livekit.calls("SendData")[0].request
    assert sorted(sent.destination_identities) == ["admin", "owner"]
    assert json.loads(sent.data)["participant"]["id"] == knocked.json()["id"]
    assert sent.kind == models.DataPacket.Kind.RELIABLE


async def test_a_rush_of_knocks_is_announced_in_full_with_one_sfu_call_at_a_time(
    api_with: Any, livekit: LiveKitServer
) -> None:
    async with api_with(livekit_url=livekit.url, lobby_notify_timeout_seconds="10") as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Town hall", access_level="restricted")
        livekit.add_participant(room["id"], "owner", attributes={"room_role": "owner"})
        knock_url = f"/api/v1/rooms/{room['id']}/request-entry"

        livekit.stall_next("ListParticipants")
        first = (await api.request("POST", knock_url, json={"username": "First"})).json()
        for _ in range(200):  # bounded wait for the notification to reach the SFU and be held there
            if livekit.stalled():
                break
            await asyncio.sleep(0.01)
        assert livekit.stalled() == 1
        rush = [(await api.request("POST", knock_url, json={"username": f"Guest {n}"})).json() for n in range(5)]
        livekit.release_stalled()
        for _ in range(200):
            if len(livekit.calls("SendData")) == 2:
                break
            await asyncio.sleep(0.01)

    sent = [json.loads(call.request.data) for call in livekit.calls("SendData")]
    assert [[p["id"] for p in message["participants"]] for message in sent] == [
        [first["id"]],
        [knock["id"] for knock in rush],
    ]
    assert sent[1]["participant"]["id"] == rush[0]["id"]
    assert len(livekit.calls("ListParticipants")) == 2  # not one per knock


async def test_a_failing_sfu_never_fails_the_knock(meeting: tuple[Api, dict[str, Any], LiveKitServer]) -> None:
    api, room, livekit = meeting
    livekit.fail_next("ListParticipants", 503, "unavailable")
    knocked = await api.request("POST", f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Zoe"})
    assert knocked.status_code == 200
    assert knocked.json()["status"] == "waiting"
