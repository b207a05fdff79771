"""Recordings over HTTP: the LiveKit egress requests checked at the wire level (the Twirp double), a real
S3 endpoint for the objects, and a real SMTP server for the owners' notification."""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from livekit.api import ListEgressRequest, LiveKitAPI
from livekit.protocol import egress as egress_pb

from meet.domain.conference.events import SfuEventHandler
from meet.domain.lobby.use_cases import ClearLobbyWhenRoomFinishes
from meet.domain.moderation.guard import RemoveAgainOnRejoin
from meet.domain.recordings.events import FollowRecordingEgress
from meet.entrypoints.settings import SettingsError, load_settings
from tests.api.conftest import Api
from tests.support.livekit_server import LiveKitServer
from tests.support.livekit_webhooks import signed_delivery
from tests.support.services import S3, SmtpServer, free_port

BUCKET = "meet-recordings-api"
HOOK_TOKEN = "api-storage-hook-token-0123456789"
HOOK = {"Authorization": f"Bearer {HOOK_TOKEN}"}


class RecordingWebhooks(Provider):
    """The webhook dispatcher with the recordings' egress handler among its handlers."""

    @provide(scope=Scope.APP)
    def handlers(
        self, lobby: ClearLobbyWhenRoomFinishes, rejoin: RemoveAgainOnRejoin, recordings: FollowRecordingEgress
    ) -> Sequence[SfuEventHandler]:
        return [lobby, rejoin, recordings]


@pytest.fixture
async def studio(
    api_with: Any, livekit: LiveKitServer, s3_service: S3, smtp_server: SmtpServer
) -> AsyncIterator[tuple[Api, dict[str, Any], LiveKitServer, S3]]:
    s3_service.create_bucket(BUCKET)
    async with api_with(
        RecordingWebhooks(),
        livekit_url=livekit.url,
        s3_endpoint_url=s3_service.endpoint_url,
        s3_bucket=BUCKET,
        s3_region="eu-west-1",
        s3_access_key=s3_service.access_key,
        s3_secret_key=s3_service.secret_key,
        egress_s3_endpoint_url="http://minio.internal:9000",
        storage_hook_token=HOOK_TOKEN,
        recording_expiry_days="30",
        smtp_host=smtp_server.host,
        smtp_port=str(smtp_server.port),
        smtp_from="meet@example.org",
        public_url="https://meet.example.org",
    ) as api:
        await api.sign_in("owner", email="owner@example.org")
        room = await api.create_room("owner", f"Board {uuid.uuid4().hex[:6]}")
        await api.grant("owner", room["id"], "admin", "administrator")
        await api.grant("owner", room["id"], "member", "member")
        await api.sign_in("stranger")
        livekit.add_participant(room["id"], "owner")
        yield api, room, livekit, s3_service


async def start(api: Api, room: dict[str, Any], user: str | None = "owner", **body: Any) -> Any:
    return await api.request("POST", f"/api/v1/rooms/{room['id']}/recordings", user=user, json=body)


async def stop(api: Api, room: dict[str, Any], user: str = "owner") -> Any:
    return await api.request("POST", f"/api/v1/rooms/{room['id']}/recordings/stop", user=user)


def minio_event(
    key: str, content_type: str, bucket: str = BUCKET, name: str = "s3:ObjectCreated:Put"
) -> dict[str, Any]:
    """A bucket notification as MinIO sends it (keys URL-encoded)."""
    return {
        "EventName": name,
        "Key": f"{bucket}/{key}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": key.replace("/", "%2F"), "size": 4, "contentType": content_type},
                },
            }
        ],
    }


async def save(api: Api, s3: S3, recording: dict[str, Any], content: bytes = b"mp4!") -> None:
    key = f"recordings/{recording['id']}.mp4"
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=content, ContentType="video/mp4")
    response = await api.request(
        "POST", "/api/v1/recordings/storage-hook", json=minio_event(key, "video/mp4"), headers=HOOK
    )
    assert response.json()["saved"] == [recording["id"]], response.text


async def test_start_sends_a_room_composite_egress_to_s3(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, livekit, _ = studio
    response = await start(api, room, user="admin", mode="screen_recording")
    assert response.status_code == 201, response.text
    recording = response.json()
    assert (recording["status"], recording["mode"], recording["room_id"]) == (
        "initiated",
        "screen_recording",
        room["id"],
    )

    (call,) = livekit.calls("StartRoomCompositeEgress")
    assert call.grants is not None
    assert call.grants.room_record
    request = call.request
    assert (request.room_name, request.audio_only) == (room["id"], False)
    (output,) = request.file_outputs
    assert output.file_type == egress_pb.EncodedFileType.MP4
    assert output.filepath == f"recordings/{recording['id']}.mp4"
    assert (output.s3.bucket, output.s3.endpoint, output.s3.region) == (
        BUCKET,
        "http://minio.internal:9000",
        "eu-west-1",
    )
    assert output.s3.force_path_style
    assert output.s3.access_key
    assert output.s3.secret
    (metadata,) = livekit.calls("UpdateRoomMetadata")
    assert metadata.request.room == room["id"]
    assert json.loads(metadata.request.metadata) == {
        "access_level": "public",
        "configuration": {"can_publish_sources": None, "everyone_can_mute": None},
        "recording_status": "starting",
        "recording_mode": "screen_recording",
    }


async def test_a_transcript_is_audio_only_ogg(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, livekit, _ = studio
    response = await start(api, room, mode="transcript", options={"language": "fr"})
    assert response.status_code == 201, response.text
    assert response.json()["options"] == {"language": "fr"}
    (call,) = livekit.calls("StartRoomCompositeEgress")
    assert call.request.audio_only
    assert call.request.file_outputs[0].file_type == egress_pb.EncodedFileType.OGG
    assert call.request.file_outputs[0].filepath == f"recordings/{response.json()['id']}.ogg"


async def test_who_may_start_and_what_they_must_send(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, livekit, _ = studio
    assert (await start(api, room, user=None, mode="transcript")).status_code == 401
    assert (await start(api, room, user="member", mode="transcript")).status_code == 403
    assert (await start(api, room, user="stranger", mode="transcript")).status_code == 403
    unknown_option = await start(api, room, mode="transcript", options={"language": "fr", "layout": "grid"})
    assert unknown_option.status_code == 422
    assert "layout" in unknown_option.text
    assert (await start(api, room, mode="hologram")).status_code == 422
    assert (await start(api, room, mode="transcript", colour="red")).status_code == 422
    assert (await start(api, room)).status_code == 422
    assert (
        await api.request("POST", "/api/v1/rooms/no-such-room/recordings", user="owner", json={"mode": "transcript"})
    ).status_code == 404
    assert livekit.calls("StartRoomCompositeEgress") == []


async def test_a_second_start_conflicts_and_a_failed_egress_frees_the_room(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],
) -> None:
    api, room, livekit, _ = studio
    livekit.fail_next("StartRoomCompositeEgress", code="internal", message="egress not connected")
    failed = await start(api, room, mode="screen_recording")
    assert failed.status_code == 502
    assert failed.json()["error"] == "recording_failed_to_start"
    listed = (await api.request("GET", "/api/v1/recordings", user="owner")).json()
    assert [r["status"] for r in listed["results"]] == ["failed_to_start"]

    assert (await start(api, room, mode="screen_recording")).status_code == 201
    second = await start(api, room, user="admin", mode="transcript")
    assert second.status_code == 409
    assert second.json()["error"] == "recording_in_progress"
    assert len(livekit.calls("StartRoomCompositeEgress")) == 2


async def egress_ids(livekit: LiveKitServer, room: dict[str, Any]) -> list[str]:
    """The room's egresses, asked of the server the way any LiveKit client would (ListEgress)."""
    client = LiveKitAPI(livekit.http_url, livekit.api_key, livekit.api_secret)
    try:
        listed = await client.egress.list_egress(ListEgressRequest(room_name=room["id"]))
    finally:
        await client.aclose()
    return [info.egress_id for info in listed.items]


async def test_stop_reports_the_real_outcome(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, livekit, _ = studio
    none = await stop(api, room)
    assert none.status_code == 404
    assert none.json()["error"] == "no_recording_in_progress"
    recording = (await start(api, room, mode="screen_recording")).json()
    (egress_id,) = await egress_ids(livekit, room)
    assert (await stop(api, room, user="member")).status_code == 403

    stopped = await stop(api, room, user="admin")

    assert stopped.status_code == 200
    assert (stopped.json()["id"], stopped.json()["status"]) == (recording["id"], "stopped")
    (call,) = livekit.calls("StopEgress")
    assert call.request.egress_id == egress_id
    assert livekit.egress(egress_id).status == egress_pb.EGRESS_ENDING  # type: ignore[union-attr]
    assert (await stop(api, room)).status_code == 404


async def test_a_stop_the_egress_refuses_is_an_error(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, livekit, _ = studio
    recording = (await start(api, room, mode="transcript")).json()
    (egress_id,) = await egress_ids(livekit, room)
    livekit.set_egress_status(egress_id, egress_pb.EGRESS_COMPLETE)  # it ended and the webhook was lost

    refused = await stop(api, room)

    assert refused.status_code == 502
    assert refused.json()["error"] == "recording_failed_to_stop"
    fetched = await api.request("GET", f"/api/v1/recordings/{recording['id']}", user="owner")
    assert fetched.json()["status"] == "failed_to_stop"
    assert (await start(api, room, mode="transcript")).status_code == 201


async def webhook(api: Api, event: dict[str, Any]) -> Any:
    body, headers = signed_delivery(event)
    return await api.request("POST", "/api/v1/webhooks/livekit", content=body, headers=headers)


def egress_event(kind: str, egress_id: str, status: str, room: dict[str, Any]) -> dict[str, Any]:
    return {"event": kind, "egressInfo": {"egressId": egress_id, "roomName": room["id"], "status": status}}


async def test_egress_webhooks_move_the_recording_and_the_room_metadata(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],
) -> None:
    api, room, livekit, _ = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    (egress_id,) = await egress_ids(livekit, room)
    url = f"/api/v1/recordings/{recording['id']}"

    assert (await webhook(api, egress_event("egress_updated", egress_id, "EGRESS_ACTIVE", room))).status_code == 200
    assert (await api.request("GET", url, user="owner")).json()["status"] == "active"
    assert json.loads(livekit.metadata[room["id"]])["recording_status"] == "started"

    ended = egress_event("egress_ended", egress_id, "EGRESS_COMPLETE", room)
    assert (await webhook(api, ended)).status_code == 200
    assert (await api.request("GET", url, user="owner")).json()["status"] == "stopped"
    assert json.loads(livekit.metadata[room["id"]]) == {
        "access_level": "public",
        "configuration": {"can_publish_sources": None, "everyone_can_mute": None},
        "recording_status": "saving",
        "recording_mode": "screen_recording",
    }

    unknown = egress_event("egress_ended", "EG_not_ours", "EGRESS_FAILED", room)
    assert (await webhook(api, unknown)).status_code == 200
    assert (await webhook(api, egress_event("egress_updated", egress_id, "EGRESS_ACTIVE", room))).status_code == 200
    assert (await api.request("GET", url, user="owner")).json()["status"] == "stopped"


async def test_settings_and_recording_status_share_the_live_metadata(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],
) -> None:
    """Each update replaces LiveKit's metadata: neither kind of change may wipe the other's part."""
    api, room, livekit, _ = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    (egress_id,) = await egress_ids(livekit, room)
    changed = await api.request(
        "PATCH",
        f"/api/v1/rooms/{room['id']}",
        user="owner",
        json={"access_level": "trusted", "configuration": {"everyone_can_mute": False}},
    )
    assert changed.status_code == 200, changed.text
    during = json.loads(livekit.metadata[room["id"]])
    assert (during["access_level"], during["recording_status"]) == ("trusted", "starting")
    assert during["configuration"]["everyone_can_mute"] is False

    assert (await webhook(api, egress_event("egress_updated", egress_id, "EGRESS_ACTIVE", room))).status_code == 200
    active = json.loads(livekit.metadata[room["id"]])
    assert (active["access_level"], active["recording_status"]) == ("trusted", "started")
    assert active["configuration"]["everyone_can_mute"] is False

    assert (await webhook(api, egress_event("egress_ended", egress_id, "EGRESS_COMPLETE", room))).status_code == 200
    await api.request("PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"access_level": "public"})
    after = json.loads(livekit.metadata[room["id"]])
    assert after["access_level"] == "public"
    assert "recording_status" not in after  # nothing is being recorded any more
    assert (await api.request("GET", f"/api/v1/recordings/{recording['id']}", user="owner")).json()[
        "status"
    ] == "stopped"


async def test_the_storage_hook_saves_and_mails_the_owners(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3], smtp_server: SmtpServer
) -> None:
    api, room, _, _ = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    key = f"recordings/{recording['id']}.mp4"
    hook = "/api/v1/recordings/storage-hook"
    event = minio_event(key, "video/mp4")
    assert (await api.request("POST", hook, json=event)).status_code == 401
    assert (await api.request("POST", hook, json=event, headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await api.request("POST", hook, content=b"{nope", headers={"Authorization": "Bearer x"})).status_code == 401
    malformed = await api.request("POST", hook, content=b"{nope", headers=HOOK)
    assert malformed.status_code == 400
    assert (await api.request("GET", f"/api/v1/recordings/{recording['id']}", user="owner")).json()[
        "status"
    ] == "initiated"

    for ignored in (
        minio_event(key, "video/mp4", bucket="another-bucket"),
        minio_event(key, "text/plain"),
        minio_event(f"recordings/{uuid.uuid4()}.mp4", "video/mp4"),
        minio_event("avatars/me.png", "image/png"),
        {"EventName": "s3:TestEvent"},
    ):
        response = await api.request("POST", hook, json=ignored, headers=HOOK)
        assert (response.status_code, response.json()["saved"]) == (200, [])
    before = len(smtp_server.messages())

    saved = await api.request("POST", hook, json=event, headers=HOOK)

    assert saved.json()["saved"] == [recording["id"]]
    body = (await api.request("GET", f"/api/v1/recordings/{recording['id']}", user="admin")).json()
    assert body["status"] == "saved"
    assert body["media_url"] == f"/media/recordings/{recording['id']}.mp4"
    assert body["expires_at"] > body["saved_at"]
    mails = [email.message_from_bytes(m, policy=email.policy.default) for m in smtp_server.messages()[before:]]
    assert [m["To"] for m in mails] == ["owner@example.org"]  # the administrator signed in without an email
    text = mails[0].get_body(("plain",))
    assert text is not None
    assert f"https://meet.example.org/media/recordings/{recording['id']}.mp4" in text.get_content()
    assert (await api.request("POST", hook, json=event, headers=HOOK)).json()["saved"] == []
    assert len(smtp_server.messages()) == before + 1


async def test_list_get_and_delete(studio: tuple[Api, dict[str, Any], LiveKitServer, S3]) -> None:
    api, room, _, s3 = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    url = f"/api/v1/recordings/{recording['id']}"
    assert (await api.request("GET", url)).status_code == 401
    assert (await api.request("GET", url, user="member")).status_code == 403
    assert (await api.request("GET", url, user="stranger")).status_code == 403
    assert (await api.request("GET", f"/api/v1/recordings/{uuid.uuid4()}", user="owner")).status_code == 404
    assert (await api.request("GET", "/api/v1/recordings/not-a-uuid", user="owner")).status_code in {400, 404}
    assert (await api.request("GET", "/api/v1/recordings", user="stranger")).json()["count"] == 0
    assert (await api.request("GET", "/api/v1/recordings", user="admin")).json()["results"][0]["id"] == recording["id"]
    unfinished = await api.request("DELETE", url, user="owner")
    assert unfinished.status_code == 409
    assert unfinished.json()["error"] == "recording_not_finished"

    await stop(api, room)
    await save(api, s3, recording)
    assert (await api.request("DELETE", url, user="member")).status_code == 403
    assert (await api.request("DELETE", url, user="admin")).status_code == 204

    assert (await api.request("GET", url, user="owner")).status_code == 404
    assert s3.client().list_objects_v2(Bucket=BUCKET, Prefix=f"recordings/{recording['id']}")["KeyCount"] == 0


async def test_deleting_the_room_deletes_its_recordings_files(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],
) -> None:
    api, room, _, s3 = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    room_url = f"/api/v1/rooms/{room['id']}"
    unfinished = await api.request("DELETE", room_url, user="owner")
    assert unfinished.status_code == 409
    assert unfinished.json()["error"] == "room_recordings_unfinished"
    assert (await api.request("GET", room_url, user="owner")).status_code == 200

    await stop(api, room)
    await save(api, s3, recording)
    key = f"recordings/{recording['id']}"
    assert s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 1
    assert (await api.request("DELETE", room_url, user="owner")).status_code == 204

    assert s3.client().list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 0
    assert (await api.request("GET", f"/api/v1/recordings/{recording['id']}", user="owner")).status_code == 404


async def test_media_auth_answers_signed_headers_for_the_right_user_only(
    studio: tuple[Api, dict[str, Any], LiveKitServer, S3],
) -> None:
    api, room, _, s3 = studio
    recording = (await start(api, room, mode="screen_recording")).json()
    path = f"/media/recordings/{recording['id']}.mp4"
    auth = "/api/v1/recordings/media-auth"
    assert (await api.request("GET", auth, user="owner", headers={"X-Original-URL": path})).status_code == 403
    await stop(api, room)
    await save(api, s3, recording)

    allowed = await api.request("GET", auth, user="owner", headers={"X-Original-URL": path})
    assert allowed.status_code == 200
    assert allowed.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date" in allowed.headers["authorization"]
    assert allowed.headers["x-amz-date"]
    assert allowed.headers["x-amz-content-sha256"]
    assert (await api.request("GET", auth, headers={"X-Original-URL": path})).status_code == 401
    assert (await api.request("GET", auth, user="member", headers={"X-Original-URL": path})).status_code == 403
    assert (await api.request("GET", auth, user="owner")).status_code == 403
    traversal = {"X-Original-URL": f"/media/recordings/%2e%2e/{recording['id']}.mp4"}
    assert (await api.request("GET", auth, user="owner", headers=traversal)).status_code == 403
    wrong_kind = {"X-Original-URL": path.replace(".mp4", ".ogg")}
    assert (await api.request("GET", auth, user="owner", headers=wrong_kind)).status_code == 404


def test_production_needs_a_storage_hook_token_with_s3() -> None:
    production = {
        "MEET_PROFILE": "production",
        "MEET_PUBLIC_URL": "https://meet.example.org",
        "MEET_SECRET_KEY": "s" * 40,
        "MEET_LIVEKIT_API_KEY": "key",
        "MEET_LIVEKIT_API_SECRET": "x" * 40,
        "MEET_S3_ENDPOINT_URL": "https://s3.example.org",
    }
    with pytest.raises(SettingsError, match="MEET_STORAGE_HOOK_TOKEN"):
        load_settings(production, dotenv=None)
    assert load_settings({**production, "MEET_STORAGE_HOOK_TOKEN": "t" * 32}, dotenv=None).storage_hook_token


async def test_readiness_covers_the_recordings_bucket(api_with: Any, s3_service: S3) -> None:
    bucket = f"ready-{uuid.uuid4().hex[:8]}"
    storage = {
        "s3_endpoint_url": s3_service.endpoint_url,
        "s3_bucket": bucket,
        "s3_region": "eu-west-1",
        "s3_access_key": s3_service.access_key,
        "s3_secret_key": s3_service.secret_key,
    }
    async with api_with(**storage) as api:
        missing = await api.request("GET", "/readyz")
        assert missing.status_code == 503
        assert missing.json()["checks"]["storage"].startswith("unavailable")
        s3_service.create_bucket(bucket)
        ready = await api.request("GET", "/readyz")  # no restart: the next probe sees the bucket
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["storage"] == "ok"

    async with api_with(**{**storage, "s3_endpoint_url": f"http://127.0.0.1:{free_port()}"}) as api:
        down = await api.request("GET", "/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["storage"] == "unavailable: StorageUnavailable"
