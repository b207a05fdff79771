"""The lobby as the app drives it, against a real ``meet serve`` over PostgreSQL and Redis: ``request-entry/``
polled by the waiting person, ``waiting-participants/`` polled by admins, ``enter/``. Polls are answered at
once on a change (or without a recent answer), held otherwise."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from livekit.api import TokenVerifier

from tests.api.lasuite.browser import Browser, held_polls, until_held
from tests.api.lasuite.conftest import V1

ANSWERED_AT_ONCE = 10.0  # seconds; a held poll would take the whole hold (20 s)


async def restricted_room(http: httpx.AsyncClient) -> tuple[Browser, dict[str, Any]]:
    owner = Browser(http)
    await owner.sign_in(f"owner-{uuid.uuid4().hex[:8]}")
    created = await owner.request("POST", f"{V1}/rooms/?username=", json={"name": f"board-{uuid.uuid4().hex[:8]}"})
    assert created.status_code == 201, created.text
    room = dict(created.json())
    changed = await owner.request("PATCH", f"{V1}/rooms/{room['id']}/", json={"access_level": "restricted"})
    assert changed.status_code == 200
    return owner, room


async def poll(guest: Browser, slug: str, username: str = "Zoe") -> dict[str, Any]:
    response = await guest.request("POST", f"{V1}/rooms/{slug}/request-entry/", json={"username": username})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def knock(guest: Browser, slug: str, username: str = "Zoe") -> dict[str, Any]:
    return await asyncio.wait_for(poll(guest, slug, username), ANSWERED_AT_ONCE)


async def waiting(admin: Browser, room_id: str) -> list[dict[str, Any]]:
    response = await admin.request("GET", f"{V1}/rooms/{room_id}/waiting-participants/")
    assert response.status_code == 200, response.text
    return list(response.json()["participants"])


async def decide(admin: Browser, room_id: str, participant_id: str, *, allow: bool) -> httpx.Response:
    return await admin.request(
        "POST", f"{V1}/rooms/{room_id}/enter/", json={"participant_id": participant_id, "allow_entry": allow}
    )


async def test_a_guest_waits_as_one_participant_and_receives_the_connection_once_admitted(
    http: httpx.AsyncClient,
) -> None:
    admin, room = await restricted_room(http)
    guest = Browser(http)
    first = await knock(guest, room["slug"])
    assert first["status"] == "waiting"
    assert first["livekit"] is None
    assert set(first) == {"id", "username", "color", "status", "livekit"}
    credential = next(line for line in guest.set_cookies if line.startswith("meet_lobby_"))
    assert "HttpOnly" in credential
    assert "Path=/api;" in credential
    assert [p["id"] for p in await asyncio.wait_for(waiting(admin, room["id"]), ANSWERED_AT_ONCE)] == [first["id"]]

    # The app's next poll: nothing changed since its last answer, so the server holds it.
    held = asyncio.create_task(poll(guest, room["slug"]))
    await until_held(http, "participant")
    decided = await decide(admin, room["id"], first["id"], allow=True)
    assert decided.status_code == 200
    assert decided.json() == {"message": "Participant was updated."}
    accepted = await asyncio.wait_for(held, ANSWERED_AT_ONCE)
    assert accepted["status"] == "accepted"
    assert accepted["id"] == first["id"]
    token = TokenVerifier("devkey", "secret").verify(accepted["livekit"]["token"])
    assert token.identity == first["id"]
    assert token.name == "Zoe"
    assert accepted["livekit"]["room"] == room["id"]
    # Answered at once from now on (the state is not "waiting"), and never a second entry.
    again = await knock(guest, room["slug"])
    assert (again["status"], again["id"]) == ("accepted", first["id"])
    assert await waiting(admin, room["id"]) == []


async def test_a_denied_guest_is_told_at_once(http: httpx.AsyncClient) -> None:
    admin, room = await restricted_room(http)
    guest = Browser(http)
    first = await knock(guest, room["slug"])
    held = asyncio.create_task(poll(guest, room["slug"]))
    await until_held(http, "participant")
    assert (await decide(admin, room["id"], first["id"], allow=False)).status_code == 200
    denied = await asyncio.wait_for(held, ANSWERED_AT_ONCE)
    assert (denied["status"], denied["livekit"]) == ("denied", None)


async def test_a_poll_without_a_recent_answer_is_answered_at_once(http: httpx.AsyncClient) -> None:
    _, room = await restricted_room(http)
    guest = Browser(http)
    first = await knock(guest, room["slug"])
    # A page reloaded long after: its credential, but no recent answer.
    for name in [name for name in guest.cookies if name.startswith("meet_poll_")]:
        del guest.cookies[name]
    before = await held_polls(http, "participant")
    again = await knock(guest, room["slug"])
    assert (again["status"], again["id"]) == ("waiting", first["id"])
    assert await held_polls(http, "participant") == before


async def test_the_participant_is_the_same_whatever_the_cookie_path_and_a_forged_credential_is_nobody(
    http: httpx.AsyncClient,
) -> None:
    admin, room = await restricted_room(http)
    own = await http.post(f"/api/v1/rooms/{room['id']}/request-entry", json={"username": "Zoe"})
    assert own.status_code == 200
    cookie_name = f"meet_lobby_{room['id']}"
    credential = own.json()["credential"]
    # The browser holds two cookies of one name (two paths): a stale one first, then meet's own.
    both = {"Cookie": f"{cookie_name}=stale.value; {cookie_name}={credential}"}
    same = await http.post(f"{V1}/rooms/{room['slug']}/request-entry/", json={"username": "Zoe"}, headers=both)
    assert same.json()["id"] == own.json()["id"]
    participant, _, signature = credential.partition(".")
    forged = {"Cookie": f"{cookie_name}={participant}.{signature[::-1]}"}
    other = await http.post(f"{V1}/rooms/{room['slug']}/request-entry/", json={}, headers=forged)
    assert other.status_code == 200
    assert other.json()["id"] != own.json()["id"]
    assert len(await waiting(admin, room["id"])) == 2


async def test_the_admins_list_is_answered_at_once_first_then_held_until_someone_knocks(
    http: httpx.AsyncClient,
) -> None:
    admin, room = await restricted_room(http)
    assert await asyncio.wait_for(waiting(admin, room["id"]), ANSWERED_AT_ONCE) == []
    listing = asyncio.create_task(waiting(admin, room["id"]))
    await until_held(http, "admin")
    zoe = await knock(Browser(http), room["slug"], "Zoe")
    listed = await asyncio.wait_for(listing, ANSWERED_AT_ONCE)
    assert listed == [{"id": zoe["id"], "username": "Zoe", "color": zoe["color"], "status": "waiting"}]
    # Changed since this admin's last answer: at once.
    max_ = await knock(Browser(http), room["slug"], "Max")
    listed = await asyncio.wait_for(waiting(admin, room["id"]), ANSWERED_AT_ONCE)
    assert [p["id"] for p in listed] == [zoe["id"], max_["id"]]


async def test_a_public_room_lets_the_guest_in_at_once(http: httpx.AsyncClient) -> None:
    owner = Browser(http)
    await owner.sign_in("public-owner")
    slug = f"open-{uuid.uuid4().hex[:8]}"
    room = (await owner.request("POST", f"{V1}/rooms/?username=", json={"name": slug})).json()
    entry = await knock(Browser(http), slug)
    assert entry["status"] == "accepted"
    assert entry["livekit"]["room"] == room["id"]


async def test_lobby_calls_refuse_bad_input_outsiders_and_other_sites(http: httpx.AsyncClient) -> None:
    admin, room = await restricted_room(http)
    guest = Browser(http)
    too_long = await guest.request("POST", f"{V1}/rooms/{room['slug']}/request-entry/", json={"username": "x" * 300})
    assert too_long.status_code == 400
    assert "detail" in too_long.json()
    zoe = await knock(guest, room["slug"])
    outsider = await guest.request("GET", f"{V1}/rooms/{room['id']}/waiting-participants/")
    assert outsider.status_code == 401
    unknown = await decide(admin, room["id"], "00000000-0000-4000-8000-000000000000", allow=True)
    assert unknown.status_code == 404
    malformed = await admin.request("POST", f"{V1}/rooms/{room['id']}/enter/", json={"participant_id": zoe["id"]})
    assert malformed.status_code == 400
    cross_site = await guest.request(
        "POST",
        f"{V1}/rooms/{room['slug']}/request-entry/",
        json={"username": "Zoe"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
