"""Rooms in the real app: the prejoin page, the lobby (waiting, admitted, denied), a changed access level,
and the recording download page."""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import RECORDINGS_BUCKET, STORAGE_HOOK_TOKEN, Person, Session
from tests.support.services import S3

WAITING = "Requesting to join..."


def room_code() -> str:
    """A meeting code as the app makes them (``abc-defg-hij``)."""
    letters = "".join(random.choices(string.ascii_lowercase, k=10))
    return f"{letters[:3]}-{letters[3:7]}-{letters[7:]}"


def owner_with_room(session: Session, access_level: str) -> tuple[Person, dict[str, Any]]:
    """A signed-in owner, on the home page, with a room of that access level (the app's own create call)."""
    owner = session.person("owner")
    session.sign_in(owner, f"owner-{uuid.uuid4().hex[:8]}", "Olive Owner")
    status, room = owner.call("POST", "/api/v1.0/rooms/?username=", {"name": room_code(), "callback_id": None})
    assert status == 201, room
    status, room = owner.call("PATCH", f"/api/v1.0/rooms/{room['id']}/", {"access_level": access_level})
    assert status == 200, room
    return owner, room


def knock(session: Session, name: str, slug: str) -> Person:
    """A guest opens the room's link, types a name on the prejoin page and asks to join."""
    guest = session.person(name)
    guest.page.goto(f"/{slug}")
    expect(guest.page.get_by_role("heading", name="Join the meeting?")).to_be_visible()
    guest.page.get_by_label("Your name").fill(name)
    guest.page.get_by_role("button", name="Join", exact=True).click()
    return guest


def waiting_participant(owner: Person, room: dict[str, Any], name: str) -> dict[str, Any]:
    """The guest in the room's waiting list, as the admin's app polls it (held until the list changes)."""
    for _ in range(5):
        status, body = owner.call("GET", f"/api/v1.0/rooms/{room['id']}/waiting-participants/")
        assert status == 200, body
        found = [p for p in body["participants"] if p["username"] == name]
        if found:
            # One browser, one waiting entry: the app's polls every second never knock again.
            assert len(found) == 1, body
            return dict(found[0])
    raise AssertionError(f"{name} never appeared in the waiting list")


def test_the_prejoin_page_asks_for_a_name_and_connects_nobody_yet(session: Session) -> None:
    _, room = owner_with_room(session, "public")
    visitor = session.person("visitor")
    visitor.page.goto(f"/{room['slug']}")
    expect(visitor.page.get_by_role("heading", name="Join the meeting?")).to_be_visible()
    expect(visitor.page.get_by_label("Your name")).to_be_editable()
    expect(visitor.page.get_by_role("button", name="Join", exact=True)).to_be_enabled()
    visitor.page.wait_for_load_state("networkidle")
    session.step("prejoin", visitor)
    assert visitor.connections == []
    assert visitor.problems() == []
    assert visitor.csp_violations() == []


def test_a_guest_knocks_waits_and_once_admitted_gets_the_connection(session: Session) -> None:
    owner, room = owner_with_room(session, "restricted")
    guest = knock(session, "Gus Guest", room["slug"])
    expect(guest.page.get_by_role("heading", name=WAITING)).to_be_visible()
    session.step("waiting", guest)
    assert guest.connections == []

    waiting = waiting_participant(owner, room, "Gus Guest")
    status, answer = owner.call(
        "POST", f"/api/v1.0/rooms/{room['id']}/enter/", {"participant_id": waiting["id"], "allow_entry": True}
    )
    assert status == 200, answer
    connection = guest.connection()
    session.step("admitted", guest)
    assert connection.url.startswith(f"{session.livekit.url}/rtc")
    _, seen_by_owner = owner.call("GET", f"/api/v1.0/rooms/{room['slug']}/")
    assert connection.room == seen_by_owner["livekit"]["room"]
    assert connection.identity == waiting["id"]
    assert connection.claims.name == "Gus Guest"
    assert connection.attributes["is_authenticated"] == "false"
    assert connection.attributes["room_role"] == ""


def test_a_denied_guest_is_told_so(session: Session) -> None:
    owner, room = owner_with_room(session, "restricted")
    guest = knock(session, "Dee Denied", room["slug"])
    expect(guest.page.get_by_role("heading", name=WAITING)).to_be_visible()
    waiting = waiting_participant(owner, room, "Dee Denied")
    status, _ = owner.call(
        "POST", f"/api/v1.0/rooms/{room['id']}/enter/", {"participant_id": waiting["id"], "allow_entry": False}
    )
    assert status == 200
    expect(guest.page.get_by_role("heading", name="You cannot join this call")).to_be_visible()
    expect(guest.page.get_by_text("Your request to join has been denied.")).to_be_visible()
    session.step("denied", guest)
    assert guest.connections == []


def test_a_changed_access_level_applies_to_the_next_visitor(session: Session) -> None:
    owner, room = owner_with_room(session, "restricted")
    first = knock(session, "First Visitor", room["slug"])
    expect(first.page.get_by_role("heading", name=WAITING)).to_be_visible()
    session.step("restricted", first)

    status, changed = owner.call("PATCH", f"/api/v1.0/rooms/{room['id']}/", {"access_level": "public"})
    assert status == 200
    assert changed["access_level"] == "public"
    knocks: list[str] = []
    second = session.person("Second Visitor")
    second.page.on("request", lambda r: knocks.append(r.url) if "request-entry" in r.url else None)
    second.page.goto(f"/{room['slug']}")
    second.page.get_by_label("Your name").fill("Second Visitor")
    second.page.get_by_role("button", name="Join", exact=True).click()
    connection = second.connection()
    session.step("public", second)
    assert connection.claims.name == "Second Visitor"
    assert connection.attributes["is_authenticated"] == "false"
    assert knocks == []


def test_the_recording_download_page_for_its_owner_and_for_someone_else(session: Session, s3_service: S3) -> None:
    owner, room = owner_with_room(session, "public")
    status, opened = owner.call("GET", f"/api/v1.0/rooms/{room['slug']}/?username=Olive")
    assert status == 200
    session.livekit.add_participant(opened["livekit"]["room"], opened["livekit"].get("identity", "owner"))
    status, body = owner.call(
        "POST", f"/api/v1.0/rooms/{room['id']}/start-recording/", {"mode": "screen_recording", "options": {}}
    )
    assert status == 201, body
    status, body = owner.call("POST", f"/api/v1.0/rooms/{room['id']}/stop-recording/")
    assert status == 200, body
    status, listed = owner.call("GET", "/api/v1/recordings")
    assert status == 200, listed
    recording_id = next(r["id"] for r in listed["results"] if r["room_id"] == room["id"])
    key = f"recordings/{recording_id}.mp4"
    s3_service.client().put_object(Bucket=RECORDINGS_BUCKET, Key=key, Body=b"mp4!", ContentType="video/mp4")
    saved = httpx.post(
        f"{session.meet.base_url}/api/v1/recordings/storage-hook",
        headers={"Authorization": f"Bearer {STORAGE_HOOK_TOKEN}"},
        json=storage_event(key),
    )
    assert saved.status_code == 200, saved.text

    owner.page.goto(f"/recording/{recording_id}")
    expect(owner.page.get_by_role("heading", name="Your recording is ready!")).to_be_visible()
    download = owner.page.get_by_role("link", name="Download")
    expect(download).to_have_attribute("href", f"{session.meet.base_url}/media/{key}")
    session.step("owner", owner)

    stranger = session.person("stranger")
    session.sign_in(stranger, f"stranger-{uuid.uuid4().hex[:8]}", "Sam Stranger")
    stranger.page.goto(f"/recording/{recording_id}")
    expect(stranger.page.get_by_role("heading", name="Recording unavailable")).to_be_visible()
    session.step("someone else", stranger)


def storage_event(key: str) -> dict[str, Any]:
    """The bucket notification MinIO sends when the egress has uploaded the file."""
    name = "s3:ObjectCreated:Put"
    return {
        "EventName": name,
        "Key": f"{RECORDINGS_BUCKET}/{key}",
        "Records": [
            {
                "eventVersion": "2.0",
                "eventSource": "minio:s3",
                "eventName": name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": RECORDINGS_BUCKET, "arn": f"arn:aws:s3:::{RECORDINGS_BUCKET}"},
                    "object": {"key": key.replace("/", "%2F"), "size": 4, "contentType": "video/mp4"},
                },
            }
        ],
    }
