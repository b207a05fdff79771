"""La Suite Meet's external API (``/external-api/v1.0``) answers as that project documents it."""

from __future__ import annotations

import uuid

from tests.api.conftest import Api
from tests.support.applications import App, manage, register

TOKEN = "/external-api/v1.0/application/token/"
ROOMS = "/external-api/v1.0/rooms"


async def lasuite_token(api: Api, app: App, email: str, *, as_form: bool = False) -> dict[str, str]:
    body = {"client_id": app.client_id, "client_secret": app.secret or "", "grant_type": "client_credentials",
            "scope": email}  # fmt: skip
    response = await (api.request("POST", TOKEN, data=body) if as_form else api.request("POST", TOKEN, json=body))
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_an_integration_creates_lists_retrieves_and_updates_rooms(api: Api) -> None:
    await api.sign_in("alice", email="alice@example.org")
    app = await register(api, ["rooms:create", "rooms:list", "rooms:retrieve", "rooms:update"])
    form = {"client_id": app.client_id, "client_secret": app.secret, "grant_type": "client_credentials",
            "scope": "alice@example.org"}  # fmt: skip
    response = await api.request("POST", TOKEN, json=form)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "rooms:create rooms:list rooms:retrieve rooms:update"
    assert body["expires_in"] > 0
    auth = {"Authorization": f"Bearer {body['access_token']}"}

    created = await api.request("POST", f"{ROOMS}/", headers=auth)
    assert created.status_code == 201, created.text
    room = created.json()
    assert set(room) == {"id", "slug", "access_level", "url", "configuration"}
    assert room["access_level"] == "trusted"
    assert room["url"].endswith(f"/{room['slug']}")
    assert len(room["slug"].split("-")) == 3

    asked = {"access_level": "restricted", "configuration": {"everyone_can_mute": True}}
    restricted = await api.request("POST", f"{ROOMS}/", headers=auth, json=asked)
    assert restricted.status_code == 201
    assert restricted.json()["configuration"]["everyone_can_mute"] is True

    listed = await api.request("GET", f"{ROOMS}?page=1&page_size=1", headers=auth)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["count"] == 2
    assert page["previous"] is None
    assert "page=2" in page["next"]
    assert len(page["results"]) == 1

    fetched = await api.request("GET", f"{ROOMS}/{room['id']}", headers=auth)
    assert fetched.json() == room
    assert (await api.request("GET", f"{ROOMS}/{room['id']}/", headers=auth)).json() == room
    assert (await api.request("GET", f"{ROOMS}/", headers=auth)).status_code == 200
    changed = await api.request("PATCH", f"{ROOMS}/{room['id']}", headers=auth,
                                json={"access_level": "restricted", "slug": "ignored", "name": "ignored"})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["access_level"] == "restricted"
    assert changed.json()["slug"] == room["slug"]
    # The user finds the rooms in their own session, as owner.
    mine = (await api.request("GET", "/api/v1/rooms", user="alice")).json()["results"]
    assert {(r["id"], r["role"]) for r in mine} == {(room["id"], "owner"), (restricted.json()["id"], "owner")}


async def test_the_token_request_as_a_form_works_too(api: Api) -> None:
    await api.sign_in("bob", email="bob@example.org")
    app = await register(api, ["rooms:list"])
    auth = await lasuite_token(api, app, "bob@example.org", as_form=True)
    assert (await api.request("GET", ROOMS, headers=auth)).status_code == 200


async def test_refusals_have_la_suite_statuses_and_shapes(api: Api) -> None:
    await api.sign_in("carol", email="carol@example.org")
    await api.sign_in("dan", email="dan@elsewhere.example")
    app = await register(api, ["rooms:list"])

    def body(**overrides: str) -> dict[str, str]:
        return {"client_id": app.client_id, "client_secret": app.secret or "", "grant_type": "client_credentials",
                "scope": "carol@example.org", **overrides}  # fmt: skip

    bad_secret = await api.request("POST", TOKEN, json=body(client_secret="wrong"))
    assert bad_secret.status_code == 401
    assert set(bad_secret.json()) == {"error"}
    outside = await api.request("POST", TOKEN, json=body(scope="dan@elsewhere.example"))
    assert outside.status_code == 403
    assert "not authorized for this email domain" in outside.json()["error"]
    unknown = await api.request("POST", TOKEN, json=body(scope="nobody@example.org"))
    assert unknown.status_code == 400
    wrong_grant = await api.request("POST", TOKEN, json=body(grant_type="password"))
    assert wrong_grant.status_code == 400
    text = await api.request("POST", TOKEN, content=b"hello", headers={"Content-Type": "text/plain"})
    assert text.status_code == 400
    await (await manage(api)).disable(uuid.UUID(app.client_id))
    inactive = await api.request("POST", TOKEN, json=body())
    assert inactive.status_code == 401
    assert inactive.json() == {"error": "The application is disabled."}


async def test_rooms_need_a_bearer_token_with_the_scope(api: Api) -> None:
    await api.sign_in("erin", email="erin@example.org")
    app = await register(api, ["rooms:list"])
    auth = await lasuite_token(api, app, "erin@example.org")
    no_scope = await api.request("POST", f"{ROOMS}/", headers=auth)
    assert no_scope.status_code == 403
    assert no_scope.json() == {"detail": "Insufficient permissions. Required scope: 'rooms:create'"}
    # A browser session is not a credential of the external API.
    session = await api.request("GET", ROOMS, user="erin")
    assert session.status_code == 401
    assert "detail" in session.json()
    public = await api.request("POST", f"{ROOMS}/", headers=auth, json={"access_level": "public"})
    assert public.status_code == 403  # the scope is checked first
    full = await register(api, ["rooms:create", "rooms:retrieve"])
    create = await lasuite_token(api, full, "erin@example.org")
    refused = await api.request("POST", f"{ROOMS}/", headers=create, json={"access_level": "public"})
    assert refused.status_code == 400
    assert "access_level" in refused.json()["detail"]
    missing = await api.request("GET", f"{ROOMS}/{uuid.uuid4()}", headers=create)
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
