"""Janus's HTTP event handler deliveries, as meet reads them: authenticated, translated, cleaned up after."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from meet.adapters.janus.events import JanusEventVerifier
from meet.adapters.janus.rooms import JanusRooms
from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusTokenIssuer, JanusTokens
from meet.domain.conference.errors import InvalidWebhookSignature, MalformedWebhook, ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.rooms.model import DEFAULT_SOURCES, SfuRoomName
from tests.support.janus import Janus, arrival, plugin_event
from tests.support.janus_client import JanusParticipant


@pytest.fixture
def verifier(janus: Janus, janus_tokens: JanusTokens) -> JanusEventVerifier:
    return JanusEventVerifier(user=janus.events.user, password=janus.events.password, tokens=janus_tokens)


def read(verifier: JanusEventVerifier, janus: Janus, raw: object) -> list[SfuEvent]:
    return list(verifier.verify(json.dumps(raw).encode(), janus.events.expected_authorization()))


async def test_a_delivery_without_the_configured_credentials_is_refused(
    janus: Janus, verifier: JanusEventVerifier
) -> None:
    janus.events.wait_for(lambda _event: True)
    body = janus.events.bodies()[0]
    with pytest.raises(InvalidWebhookSignature):
        verifier.verify(body, None)
    with pytest.raises(InvalidWebhookSignature):
        verifier.verify(body, "Basic " + "x" * 20)
    with pytest.raises(InvalidWebhookSignature):
        verifier.verify(body, janus.events.expected_authorization()[:-2])


def test_a_body_that_is_not_janus_events_is_malformed(janus: Janus, verifier: JanusEventVerifier) -> None:
    authorization = janus.events.expected_authorization()
    for body in (b"not json", b"[1, 2]", b"[]", b'"text"'):
        with pytest.raises(MalformedWebhook):
            verifier.verify(body, authorization)


async def test_core_and_other_events_are_ignored_and_ids_are_stable(
    janus: Janus, janus_sfu: JanusSfu, verifier: JanusEventVerifier
) -> None:
    room = f"room-{uuid.uuid4().hex[:12]}"
    await janus_sfu.ensure_room(room)
    created = janus.events.wait_for(
        lambda e: plugin_event(e).get("event") == "created" and plugin_event(e).get("room") == room
    )
    await janus_sfu.destroy_room(room)
    core = [e for e in janus.events.events() if e.get("type") != 64]
    assert core, "Janus posted no core event (server started, sessions, handles)"
    assert read(verifier, janus, core) == []
    assert read(verifier, janus, [created]) == []  # a room being created is no meeting event
    destroyed = janus.events.wait_for(
        lambda e: plugin_event(e).get("event") == "destroyed" and plugin_event(e).get("room") == room
    )
    # A retransmission repeats the same bytes: the same event id, so it is handled once.
    first, again = read(verifier, janus, [destroyed]), read(verifier, janus, [destroyed])
    assert first == again
    assert len(first) == 1
    assert first[0].kind == "room_finished"


async def test_the_last_one_out_leaves_a_destroyed_room_which_finishes_the_meeting(
    janus: Janus, janus_sfu: JanusSfu, janus_tokens: JanusTokens, verifier: JanusEventVerifier
) -> None:
    room = f"room-{uuid.uuid4().hex[:12]}"
    await janus_sfu.ensure_room(room)
    janitor = JanusRooms(janus_sfu, empty_timeout=0)
    issuer = JanusTokenIssuer(url=janus.url, tokens=janus_tokens)
    start = len(janus.events.events())
    async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
        clients = []
        for identity in ("kim-sub", "lee-sub"):
            who = Participant.build(
                identity=identity, requested_name=None, full_name=None, role=None, is_authenticated=True
            )
            connection = issuer.connection_for(
                who, ParticipantGrants(room=SfuRoomName(room), room_admin=False, publish_sources=DEFAULT_SOURCES)
            )
            client = JanusParticipant(url=janus.url, token=connection.token, http=http)
            await client.connect(opaque_id=connection.token)
            await client.join(room, identity, join_token=connection.join_token)
            clients.append(client)

        async def leaves(client: JanusParticipant, identity: str) -> None:
            await client.request({"request": "leave"})
            raw = janus.events.wait_for(
                lambda e: plugin_event(e).get("event") == "leaving" and plugin_event(e).get("id") == identity,
                after=start,
            )
            [left] = read(verifier, janus, raw)
            assert (left.kind, left.room, left.participant_identity) == ("participant_left", room, identity)
            await janitor.handle(left)

        await leaves(clients[0], "kim-sub")
        assert [p.identity for p in await janus_sfu.list_participants(room)] == ["lee-sub"]  # still on
        await leaves(clients[1], "lee-sub")
        for client in clients:
            await client.close()

    raw = await arrival(
        janus.events,
        lambda e: plugin_event(e).get("event") == "destroyed" and plugin_event(e).get("room") == room,
        after=start,
    )
    [finished] = read(verifier, janus, raw)
    assert (finished.kind, finished.room) == ("room_finished", room)
    with pytest.raises(ParticipantNotInRoom):
        await janus_sfu.list_participants(room)
