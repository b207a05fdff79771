"""Bearer tokens on meet's API: scopes per operation, the domain's rules as for the user, no session,
no SFU, and never a token read from a cookie."""

from __future__ import annotations

from typing import Any

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.api.conftest import Api
from tests.support.applications import bearer, register

EVERY_ROOM_SCOPE = ["rooms:create", "rooms:list", "rooms:retrieve", "rooms:update", "rooms:delete"]


async def test_an_application_manages_the_user_rooms_with_its_scopes(api: Api) -> None:
    alice = await api.sign_in("alice", email="alice@example.org")
    app = await register(api, [*EVERY_ROOM_SCOPE, "accesses:manage"])
    auth = await bearer(api, app, "alice@example.org")
    created = await api.request("POST", "/api/v1/rooms", json={"name": "Weekly sync"}, headers=auth)
    assert created.status_code == 201, created.text
    room = created.json()
    listed = await api.request("GET", "/api/v1/rooms", headers=auth)
    assert [r["id"] for r in listed.json()["results"]] == [room["id"]]
    changed = await api.request(
        "PATCH", f"/api/v1/rooms/{room['id']}", json={"access_level": "restricted"}, headers=auth
    )
    assert changed.status_code == 200
    accesses = await api.request("GET", f"/api/v1/rooms/{room['id']}/accesses", headers=auth)
    assert [(a["user_id"], a["role"]) for a in accesses.json()] == [(alice["id"], "owner")]
    # The user sees in their session what the application did for them.
    mine = await api.request("GET", "/api/v1/rooms", user="alice")
    assert [r["id"] for r in mine.json()["results"]] == [room["id"]]
    assert (await api.request("DELETE", f"/api/v1/rooms/{room['id']}", headers=auth)).status_code == 204


async def test_an_operation_outside_the_token_scopes_is_403_naming_the_scope(api: Api) -> None:
    await api.sign_in("bob", email="bob@example.org")
    room = await api.create_room("bob", "Planning")
    app = await register(api, EVERY_ROOM_SCOPE)
    auth = await bearer(api, app, "bob@example.org", scope="rooms:list")
    assert (await api.request("GET", "/api/v1/rooms", headers=auth)).status_code == 200
    for method, path, scope in [
        ("POST", "/api/v1/rooms", "rooms:create"),
        ("GET", f"/api/v1/rooms/{room['slug']}", "rooms:retrieve"),
        ("PATCH", f"/api/v1/rooms/{room['id']}", "rooms:update"),
        ("DELETE", f"/api/v1/rooms/{room['id']}", "rooms:delete"),
        ("GET", f"/api/v1/rooms/{room['id']}/accesses", "accesses:manage"),
        ("GET", "/api/v1/recordings", "recordings:read"),
    ]:
        response = await api.request(method, path, headers=auth, json={"name": "x"} if method != "GET" else None)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "insufficient_scope"
        assert scope in response.json()["detail"]
        assert f'scope="{scope}"' in response.headers["www-authenticate"]


async def test_an_application_acting_for_a_member_cannot_do_what_a_member_cannot(api: Api) -> None:
    await api.sign_in("owner", email="owner@example.org")
    room = await api.create_room("owner", "Board")
    await api.grant("owner", room["id"], "member", "member")
    await api.sign_in("member", email="member@example.org")
    app = await register(api, [*EVERY_ROOM_SCOPE, "accesses:manage"])
    auth = await bearer(api, app, "member@example.org")
    for method, path in [
        ("PATCH", f"/api/v1/rooms/{room['id']}"),
        ("DELETE", f"/api/v1/rooms/{room['id']}"),
        ("GET", f"/api/v1/rooms/{room['id']}/accesses"),
    ]:
        response = await api.request(method, path, headers=auth, json={"name": "Mine"} if method == "PATCH" else None)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] != "insufficient_scope"


async def test_no_token_reaches_the_sfu_and_the_lobby_is_for_sessions(api: Api) -> None:
    await api.sign_in("carol", email="carol@example.org")
    room = await api.create_room("carol", "Open house", access_level="public")
    app = await register(api, EVERY_ROOM_SCOPE)
    auth = await bearer(api, app, "carol@example.org")
    opened = await api.request("GET", f"/api/v1/rooms/{room['slug']}", headers=auth)
    assert opened.status_code == 200
    assert opened.json().get("livekit") is None
    assert opened.json().get("connection") is None
    assert opened.json()["id"] == room["id"]
    knock = await api.request(
        "POST", f"/api/v1/rooms/{room['slug']}/request-entry", headers=auth, json={"username": "x"}
    )
    assert knock.status_code == 403
    assert knock.json()["error"] == "not_available_to_tokens"
    # The same user in a browser session gets the connection.
    assert (await api.request("GET", f"/api/v1/rooms/{room['slug']}", user="carol")).json()["livekit"] is not None


async def test_a_bearer_request_carries_no_session_sets_no_cookie_and_skips_the_cross_site_check(api: Api) -> None:
    await api.sign_in("dave", email="dave@example.org")
    await api.sign_in("erin", email="erin@example.org")
    app = await register(api, EVERY_ROOM_SCOPE)
    auth = await bearer(api, app, "dave@example.org")
    # Erin's session cookie rides along from another site: the token speaks, the session is not used.
    headers = {**auth, **api.as_("erin"), "Origin": "https://evil.example"}
    created = await api.request("POST", "/api/v1/rooms", json={"name": "Dave's"}, headers=headers)
    assert created.status_code == 201, created.text
    assert "set-cookie" not in created.headers
    me = await api.request("GET", "/api/v1/users/me", headers={**auth, **api.as_("erin")})
    assert me.json()["sub"] == "dave"
    assert "set-cookie" not in me.headers
    erin_rooms = await api.request("GET", "/api/v1/rooms", user="erin")
    assert erin_rooms.json()["count"] == 0
    # Without the token, the same cross-site cookie request is refused as before.
    forged = await api.request(
        "POST", "/api/v1/rooms", json={"name": "x"}, headers={**api.as_("erin"), "Origin": "https://evil.example"}
    )
    assert forged.status_code == 403


async def test_a_token_in_a_cookie_never_authenticates(api: Api) -> None:
    await api.sign_in("frank", email="frank@example.org")
    app = await register(api, EVERY_ROOM_SCOPE)
    token = (await bearer(api, app, "frank@example.org"))["Authorization"].removeprefix("Bearer ")
    for cookie in (f"{SESSION_COOKIE}={token}", f"access_token={token}", f"Authorization=Bearer {token}"):
        response = await api.request("GET", "/api/v1/users/me", headers={"Cookie": cookie})
        assert response.status_code == 401, cookie


async def test_invalid_tokens_are_401_invalid_token(api: Api, api_with: Any) -> None:
    for value in ("Bearer ", "Bearer not-a-token", "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        response = await api.request("GET", "/api/v1/rooms", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")
    # A token signed by another deployment (another secret) is not ours.
    await api.sign_in("gina", email="gina@example.org")
    app = await register(api, EVERY_ROOM_SCOPE)
    auth = await bearer(api, app, "gina@example.org")
    async with api_with(secret_key="another-deployment-secret-" + "x" * 20) as other:
        assert (await other.request("GET", "/api/v1/rooms", headers=auth)).status_code == 401


async def test_the_openapi_document_names_the_security_schemes_and_each_operation_scope(api: Api) -> None:
    document = (await api.request("GET", "/api/v1/docs/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    flow = schemes["bearer"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/api/v1/oauth/token"
    assert set(flow["scopes"]) == {*EVERY_ROOM_SCOPE, "accesses:manage", "recordings:read", "audit:read"}
    assert schemes["session"]["in"] == "cookie"
    paths = document["paths"]
    expected = {
        ("/api/v1/rooms", "post"): "rooms:create",
        ("/api/v1/rooms", "get"): "rooms:list",
        ("/api/v1/rooms/{id_or_slug}", "get"): "rooms:retrieve",
        ("/api/v1/rooms/{id_or_slug}", "patch"): "rooms:update",
        ("/api/v1/rooms/{id_or_slug}", "delete"): "rooms:delete",
        ("/api/v1/rooms/{id_or_slug}/accesses", "post"): "accesses:manage",
        ("/api/v1/recordings", "get"): "recordings:read",
        ("/external-api/v1.0/rooms", "get"): "rooms:list",
    }
    for (path, method), scope in expected.items():
        assert {"bearer": [scope]} in paths[path][method]["security"], (path, method)
    token = paths["/api/v1/oauth/token"]["post"]
    assert "application/x-www-form-urlencoded" in token["requestBody"]["content"]
    assert token["responses"]["401"]["content"]["application/json"]["schema"]["anyOf"][0]["$ref"].endswith("OAuthError")


async def test_an_application_reads_the_audit_log_with_its_scope_and_is_its_own_actor_there(api: Api) -> None:
    await api.sign_in("dora", email="dora@example.org")
    app = await register(api, ["rooms:create", "audit:read"])
    creating = await bearer(api, app, "dora@example.org", scope="rooms:create")
    created = await api.request("POST", "/api/v1/rooms", json={"name": "Planning"}, headers=creating)
    assert created.status_code == 201, created.text
    audit_path = f"/api/v1/rooms/{created.json()['id']}/audit"

    refused = await api.request("GET", audit_path, headers=creating)
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert "audit:read" in refused.json()["detail"]

    reading = await bearer(api, app, "dora@example.org", scope="audit:read")
    listed = await api.request("GET", audit_path, headers=reading)
    assert listed.status_code == 200, listed.text
    [entry] = listed.json()["entries"]
    assert (entry["action"], entry["actor"]) == ("room.created", {"kind": "application", "id": app.client_id})
