"""Where the OpenAPI document and the service once disagreed (found by schemathesis as a room owner): each
case pinned here, whatever examples the fuzzer's seed draws."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api
from tests.support.livekit_server import LiveKitServer


async def test_both_event_streams_are_documented_as_server_sent_events(api: Api) -> None:
    document = (await api.request("GET", "/api/v1/docs/openapi.json")).json()
    for path in (
        "/api/v1/rooms/{id_or_slug}/waiting-participants/events",
        "/api/v1/rooms/{id_or_slug}/request-entry/events",
    ):
        assert set(document["paths"][path]["get"]["responses"]["200"]["content"]) == {"text/event-stream"}, path


async def test_a_boolean_in_a_body_is_json_true_or_false_only(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board")
    for value in (0, 1, "true", "false"):
        refused = await api.request(
            "PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"configuration": {"everyone_can_mute": value}}
        )
        assert refused.status_code == 422, (value, refused.text)
        assert "configuration.everyone_can_mute" in refused.json()["fields"]
    accepted = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", user="owner", json={"configuration": {"everyone_can_mute": True}}
    )
    assert accepted.status_code == 200
    assert accepted.json()["configuration"]["everyone_can_mute"] is True


async def test_a_permission_never_granted_may_be_asked_as_false(api_with: Any, livekit: LiveKitServer) -> None:
    async with api_with(livekit_url=livekit.url) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        livekit.add_participant(room["id"], "guest")
        path = f"/api/v1/rooms/{room['id']}/participants/guest"
        for permission in ("hidden", "recorder", "agent"):
            asked = await api.request("PATCH", path, user="owner", json={"permission": {permission: False}})
            assert asked.status_code == 200, (permission, asked.text)
            granted = await api.request("PATCH", path, user="owner", json={"permission": {permission: True}})
            assert granted.status_code == 422, permission
            assert granted.json()["error"] == "forbidden_permission"


async def test_a_role_for_someone_who_never_signed_in_is_not_found(api: Api) -> None:
    await api.sign_in("owner")
    room = await api.create_room("owner", "Board")
    response = await api.request(
        "POST",
        f"/api/v1/rooms/{room['id']}/accesses",
        user="owner",
        json={"email": "nobody@example.org", "role": "member"},
    )
    assert response.status_code == 404
    assert response.json()["error"] == "unknown_user"
