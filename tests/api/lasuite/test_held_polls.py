"""Held polls are answered from outside the app's layers (``HeldPolls``), over one listener per process:
many held at once, each answered with its own participant's state, with the headers and cookies of any
answer; admins' lists are answered from this process's encoded copy only while it is the list's."""

from __future__ import annotations

import asyncio

import httpx
from livekit.api import TokenVerifier

from tests.api.lasuite.browser import Browser, until_held
from tests.api.lasuite.test_lobby import ANSWERED_AT_ONCE, decide, knock, poll, restricted_room, waiting

GUESTS = 12


async def test_many_held_polls_each_get_their_own_participants_answer(http: httpx.AsyncClient) -> None:
    admin, room = await restricted_room(http)
    guests = [Browser(http) for _ in range(GUESTS)]
    entries = [await knock(guest, room["slug"], f"Guest {n}") for n, guest in enumerate(guests)]
    raw: list[httpx.Response] = []

    async def held_poll(guest: Browser) -> dict[str, object]:
        response = await guest.request(
            "POST", f"/api/v1.0/rooms/{room['slug']}/request-entry/", json={"username": "ignored"}
        )
        raw.append(response)
        assert response.status_code == 200, response.text
        return dict(response.json())

    held = [asyncio.create_task(held_poll(guest)) for guest in guests]
    await until_held(http, "participant", GUESTS)
    admitted = {entry["id"] for entry in entries[::2]}
    for entry in entries:
        assert (await decide(admin, room["id"], entry["id"], allow=entry["id"] in admitted)).status_code == 200
    answers = await asyncio.wait_for(asyncio.gather(*held), ANSWERED_AT_ONCE)

    for entry, answer in zip(entries, answers, strict=True):
        assert answer["id"] == entry["id"]
        assert answer["username"] == entry["username"]
        if entry["id"] in admitted:
            assert answer["status"] == "accepted"
            token = TokenVerifier("devkey", "secret").verify(answer["livekit"]["token"])  # type: ignore[index]
            assert token.identity == entry["id"]
        else:
            assert (answer["status"], answer["livekit"]) == ("denied", None)
    for response in raw:
        # The start of the answer went through every layer: security headers, the answer's own cookies.
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["content-type"].startswith("application/json")
        assert "meet-held-poll" not in response.headers
        cookies = response.headers.get_list("set-cookie")
        assert any(line.startswith(f"meet_lobby_{room['id']}=") for line in cookies)
        assert any(line.startswith("meet_poll_") for line in cookies)
    # Decided: answered at once from now on.
    again = await knock(guests[1], room["slug"])
    assert again["status"] == "denied"


async def test_a_held_poll_answers_after_the_hold_with_the_state_unchanged(http: httpx.AsyncClient) -> None:
    """The hold is the server's (20 s here): the poll is held, then answered "waiting" once it ends,
    without a change; the next poll is held again (no knock again: still one entry)."""
    admin, room = await restricted_room(http)
    guest = Browser(http)
    first = await knock(guest, room["slug"])
    held = asyncio.create_task(poll(guest, room["slug"]))
    await until_held(http, "participant", 1)
    answer = await asyncio.wait_for(held, 40)
    assert (answer["id"], answer["status"]) == (first["id"], "waiting")
    assert [p["id"] for p in await asyncio.wait_for(waiting(admin, room["id"]), ANSWERED_AT_ONCE)] == [first["id"]]


async def test_an_admins_list_is_never_an_older_copy(http: httpx.AsyncClient) -> None:
    admin, room = await restricted_room(http)
    zoe = await knock(Browser(http), room["slug"], "Zoe")
    max_ = await knock(Browser(http), room["slug"], "Max")
    other_admin = Browser(http)
    other_admin.cookies = dict(admin.cookies)  # the same admin in a second tab: no poll mark of its own yet
    del_marks = [name for name in other_admin.cookies if name.startswith("meet_poll_")]
    for name in del_marks:
        del other_admin.cookies[name]
    assert [p["id"] for p in await waiting(admin, room["id"])] == [zoe["id"], max_["id"]]
    assert (await decide(admin, room["id"], zoe["id"], allow=True)).status_code == 200
    # The process answered this list before; the list changed since: the new one, at once.
    listed = await asyncio.wait_for(waiting(other_admin, room["id"]), ANSWERED_AT_ONCE)
    assert [p["id"] for p in listed] == [max_["id"]]
    listed = await asyncio.wait_for(waiting(admin, room["id"]), ANSWERED_AT_ONCE)
    assert [p["id"] for p in listed] == [max_["id"]]
