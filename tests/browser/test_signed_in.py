"""Signing in and out, a room created from the home page, and the language preference, in the real app."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.browser.conftest import Session


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_a_user_signs_in_and_out_through_the_app(session: Session) -> None:
    alice = session.person("alice")
    sub = unique("alice")
    session.sign_in(alice, sub, "Alice Liddell")
    session.step("signed in", alice)
    session.docs_screenshot(alice, "lasuite-frontend-home")
    status, me = alice.call("GET", "/api/v1.0/users/me")
    assert status == 200
    assert me["full_name"] == "Alice Liddell"
    assert alice.problems() == []

    alice.page.get_by_role("button", name="Alice Liddell").first.click()
    alice.page.get_by_role("menuitem", name="Logout").click()
    expect(alice.page.get_by_role("link", name="Login")).to_be_visible()
    session.step("signed out", alice)
    alice.page.reload()
    expect(alice.page.get_by_role("link", name="Login")).to_be_visible()
    assert alice.call("GET", "/api/v1.0/users/me")[0] == 401


def test_a_room_created_from_the_home_page_connects_its_creator(session: Session) -> None:
    owner = session.person("owner")
    sub = unique("owner")
    session.sign_in(owner, sub, "Olive Owner")
    owner.page.get_by_role("button", name="Create a meeting").click()
    session.step("create menu", owner)
    owner.page.get_by_role("menuitem", name="Start an instant meeting").click()
    owner.page.wait_for_url(lambda url: url.rstrip("/") != session.meet.base_url)
    slug = owner.page.url.rsplit("/", 1)[-1]
    connection = owner.connection()
    session.step("in the room", owner)
    status, room = owner.call("GET", f"/api/v1.0/rooms/{slug}/")
    assert status == 200
    assert room["is_administrable"] is True
    assert [access["role"] for access in room["accesses"]] == ["owner"]
    assert connection.url.startswith(f"{session.livekit.url}/rtc")
    assert connection.room == room["livekit"]["room"]
    assert connection.identity == sub
    assert connection.attributes["room_role"] == "owner"
    assert connection.attributes["is_authenticated"] == "true"
    # The conference's code (LiveKit's client, its workers, WebAssembly, styles) runs under the policy.
    assert owner.csp_violations() == []
    assert owner.page_errors == []


def test_the_language_preference_persists_across_reloads(session: Session) -> None:
    user = session.person("user")
    sub = unique("lang")
    session.sign_in(user, sub, "Lena Lang")
    user.page.get_by_role("button", name="Settings").click()
    session.step("settings", user)
    with user.page.expect_response(lambda r: r.request.method == "PUT" and "/api/v1.0/users/" in r.url) as put:
        user.page.get_by_role("button", name="Language").click()
        user.page.get_by_role("option", name="Français").click()
    assert put.value.status == 200
    assert put.value.json()["language"] == "fr-fr"
    user.page.keyboard.press("Escape")
    expect(user.page.get_by_role("heading", name="Visioconférences simples et sécurisées")).to_be_visible()
    user.page.reload()
    expect(user.page.get_by_role("heading", name="Visioconférences simples et sécurisées")).to_be_visible()
    session.step("reloaded in French", user)
    status, me = user.call("GET", "/api/v1.0/users/me")
    assert status == 200
    assert me["language"] == "fr-fr"
