"""Moderation and recordings as the app calls them, against the wire-level LiveKit double, S3 and
PostgreSQL; roles granted on meet's own API hold on La Suite's, and the other way round."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.lasuite.conftest import V1, create_room
from tests.support.livekit_server import LiveKitServer
from tests.support.services import S3

BUCKET = "meet-lasuite-recordings"
Meeting = tuple[Api, dict[str, Any], LiveKitServer]


@pytest.fixture
async def meeting(
    api_with: Any, livekit: LiveKitServer, s3_service: S3, fresh_postgres_database: str, redis_url: str
) -> AsyncIterator[Meeting]:
    s3_service.create_bucket(BUCKET)
    async with api_with(
        lasuite_api="true",
        database_url=fresh_postgres_database,
        redis_url=redis_url,
        livekit_url=livekit.url,
        s3_endpoint_url=s3_service.endpoint_url,
        s3_bucket=BUCKET,
        s3_access_key=s3_service.access_key,
        s3_secret_key=s3_service.secret_key,
        storage_hook_token="lasuite-storage-hook-token-0123456789",
    ) as api:
        await api.sign_in("owner")
        room = await create_room(api, "owner", f"board-{uuid.uuid4().hex[:6]}")
        # Granted on meet's own API: they hold on La Suite's.
        await api.grant("owner", room["id"], "admin", "administrator")
        await api.sign_in("member")
        await api.sign_in("stranger")
        livekit.add_participant(
            room["id"], "owner", attributes={"room_role": "owner"}, tracks=(("TR_O", "microphone"),)
        )
        livekit.add_participant(room["id"], "admin", attributes={"room_role": "administrator"})
        livekit.add_participant(
            room["id"],
            "member",
            attributes={"room_role": "", "is_authenticated": "true", "color": "hsl(1, 50%, 50%)"},
            tracks=(("TR_M", "microphone"),),
        )
        yield api, room, livekit


async def token_of(api: Api, room: dict[str, Any], user: str) -> str:
    """The participant's own LiveKit token, from the room's answer, as the app keeps it."""
    response = await api.request("GET", f"{V1}/rooms/{room['slug']}/?username=", user=user)
    return str(response.json()["livekit"]["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_admin_granted_on_meets_api_administers_on_la_suites(meeting: Meeting) -> None:
    api, room, _ = meeting
    seen = (await api.request("GET", f"{V1}/rooms/{room['id']}/", user="admin")).json()
    assert seen["is_administrable"] is True
    assert sorted(access["role"] for access in seen["accesses"]) == ["administrator", "owner"]
    assert "accesses" not in (await api.request("GET", f"{V1}/rooms/{room['id']}/", user="member")).json()


async def test_mute_by_an_admin_and_by_a_participant_where_the_room_allows_it(meeting: Meeting) -> None:
    api, room, livekit = meeting
    body = {"participant_identity": "member", "track_sid": "TR_M"}
    muted = await api.request("POST", f"{V1}/rooms/{room['id']}/mute-participant/", user="admin", json=body)
    assert muted.status_code == 200, muted.text
    assert muted.json() == {"status": "success"}
    assert [call.request.track_sid for call in livekit.calls("MutePublishedTrack")] == ["TR_M"]
    # A participant with their LiveKit token, addressing the room by its LiveKit name, as the app does.
    member = bearer(await token_of(api, room, "member"))
    own = {"participant_identity": "owner", "track_sid": "TR_O"}
    refused = await api.request("POST", f"{V1}/rooms/{room['id']}/mute-participant/", headers=member, json=own)
    assert refused.status_code == 403
    assert "detail" in refused.json()
    allow = {"configuration": {"everyone_can_mute": True}}
    assert (await api.request("PATCH", f"{V1}/rooms/{room['id']}/", user="owner", json=allow)).status_code == 200
    allowed = await api.request("POST", f"{V1}/rooms/{room['id']}/mute-participant/", headers=member, json=own)
    assert allowed.status_code == 200, allowed.text
    anonymous = await api.request("POST", f"{V1}/rooms/{room['id']}/mute-participant/", json=own)
    assert anonymous.status_code == 401


async def test_raising_a_hand_and_renaming_oneself_take_the_livekit_token(meeting: Meeting) -> None:
    api, room, livekit = meeting
    member = bearer(await token_of(api, room, "member"))
    raised = await api.request("POST", f"{V1}/rooms/{room['id']}/toggle-hand/", headers=member, json={"raised": True})
    assert raised.status_code == 200, raised.text
    participant = livekit.participant(room["id"], "member")
    assert participant is not None
    assert participant.attributes["handRaisedAt"]
    renamed = await api.request("POST", f"{V1}/rooms/{room['id']}/rename/", headers=member, json={"name": "Mia"})
    assert renamed.status_code == 200, renamed.text
    participant = livekit.participant(room["id"], "member")
    assert participant is not None
    assert participant.name == "Mia"
    no_token = await api.request("POST", f"{V1}/rooms/{room['id']}/toggle-hand/", json={"raised": True})
    assert no_token.status_code == 401
    forged = await api.request(
        "POST", f"{V1}/rooms/{room['id']}/rename/", headers=bearer("not.a.token"), json={"name": "Eve"}
    )
    assert forged.status_code == 401
    empty = await api.request("POST", f"{V1}/rooms/{room['id']}/rename/", headers=member, json={"name": " "})
    assert empty.status_code == 400


async def test_admins_lower_hands_change_permissions_and_roles(meeting: Meeting) -> None:
    api, room, livekit = meeting
    member = livekit.participant(room["id"], "member")
    assert member is not None
    lowered = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant/",
        user="admin",
        # The app sends the participant's whole attributes back (the server's own among them).
        json={"participant_identity": "member", "attributes": {**dict(member.attributes), "handRaisedAt": ""}},
    )
    assert lowered.status_code == 200, lowered.text
    permissions = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant/",
        user="admin",
        json={
            "participant_identity": "member",
            "permission": {
                "can_subscribe": True,
                "can_publish_data": True,
                "can_update_metadata": False,
                "can_subscribe_metrics": False,
                "can_publish": True,
                "can_publish_sources": ["microphone"],
            },
        },
    )
    assert permissions.status_code == 200, permissions.text
    updates = livekit.calls("UpdateParticipant")
    assert updates[-1].request.permission.can_publish_sources == [2]  # LiveKit's MICROPHONE
    hidden = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant/",
        user="admin",
        json={"participant_identity": "member", "permission": {"hidden": True}},
    )
    assert hidden.status_code == 400
    by_member = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant-role/",
        user="member",
        json={"participant_identity": "admin", "role": "member"},
    )
    assert by_member.status_code == 403
    promoted = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant-role/",
        user="owner",
        json={"participant_identity": "member", "role": "administrator"},
    )
    assert promoted.status_code == 200, promoted.text
    # Promoted on La Suite's API: an administrator on meet's own.
    own = (await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")).json()
    assert own["role"] == "administrator"
    owner_role = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/update-participant-role/",
        user="owner",
        json={"participant_identity": "member", "role": "owner"},
    )
    assert owner_role.status_code == 400


async def test_a_removed_participant_is_kept_out(meeting: Meeting) -> None:
    api, room, livekit = meeting
    removed = await api.request(
        "POST", f"{V1}/rooms/{room['id']}/remove-participant/", user="admin", json={"participant_identity": "member"}
    )
    assert removed.status_code == 200, removed.text
    assert livekit.participant(room["id"], "member") is None
    again = (await api.request("GET", f"{V1}/rooms/{room['slug']}/", user="member")).json()
    assert "livekit" not in again
    refused = await api.request(
        "POST", f"{V1}/rooms/{room['id']}/remove-participant/", user="member", json={"participant_identity": "admin"}
    )
    assert refused.status_code == 403


async def test_recordings_start_stop_and_the_download_page(meeting: Meeting) -> None:
    api, room, livekit = meeting
    started = await api.request(
        "POST",
        f"{V1}/rooms/{room['id']}/start-recording/",
        user="admin",
        json={"mode": "screen_recording", "options": {"language": "fr"}},
    )
    assert started.status_code == 201, started.text
    assert "message" in started.json()
    assert len(livekit.calls("StartRoomCompositeEgress")) == 1
    # The live room's metadata, in the words the app reads (useRecordingStatuses, RecordingStateToast).
    live = json.loads(livekit.metadata[room["id"]])
    assert (live["recording_status"], live["recording_mode"]) == ("starting", "screen_recording")
    assert live["access_level"] == "public"
    assert live["configuration"] == {"can_publish_sources": None, "everyone_can_mute": None}
    second = await api.request(
        "POST", f"{V1}/rooms/{room['id']}/start-recording/", user="owner", json={"mode": "transcript"}
    )
    assert second.status_code == 409
    stopped = await api.request("POST", f"{V1}/rooms/{room['id']}/stop-recording/", user="owner")
    assert stopped.status_code == 200, stopped.text
    listed = (await api.request("GET", "/api/v1/recordings", user="owner")).json()
    recording_id = listed["results"][0]["id"]
    page = await api.request("GET", f"{V1}/recordings/{recording_id}/", user="owner")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["id"] == recording_id
    assert body["room"] == {"id": room["id"], "name": room["name"], "slug": room["slug"], "access_level": "public"}
    assert body["key"] == f"recordings/{recording_id}.mp4"
    assert body["mode"] == "screen_recording"
    assert body["is_expired"] is False
    assert {"created_at", "status", "expired_at"} <= body.keys()
    assert (await api.request("GET", f"{V1}/recordings/{recording_id}/", user="stranger")).status_code == 403
    assert (await api.request("GET", f"{V1}/recordings/{recording_id}/")).status_code == 401
    assert (await api.request("GET", f"{V1}/recordings/not-an-id/", user="owner")).status_code in {400, 404}
    by_member = await api.request(
        "POST", f"{V1}/rooms/{room['id']}/start-recording/", user="member", json={"mode": "transcript"}
    )
    assert by_member.status_code == 403


async def test_features_the_config_reports_off_answer_a_clear_404(meeting: Meeting) -> None:
    api, room, _ = meeting
    for method, path in (
        ("POST", f"{V1}/rooms/{room['id']}/start-subtitle/"),
        ("POST", f"{V1}/rooms/creation-callback/"),
        ("GET", f"{V1}/files/?page=1"),
        ("POST", f"{V1}/files/"),
        ("POST", f"{V1}/files/{uuid.uuid4()}/upload-ended/"),
        ("DELETE", f"{V1}/files/{uuid.uuid4()}/"),
        ("POST", f"{V1}/diagnostics/connection/"),
    ):
        response = await api.request(method, path, user="owner", json={} if method == "POST" else None)
        assert response.status_code == 404, (path, response.text)
        assert "not available on this server" in response.json()["detail"]
