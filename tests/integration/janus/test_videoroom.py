"""meet's Janus adapters against a real Janus, with the tests as Janus clients over its HTTP API.

Each test uses a room of its own; participants connect the way meet tells browsers to: a session and a
VideoRoom handle with the core token (also as the handle's ``opaque_id``), then ``join`` as publisher
with meet's identity and the room's join token.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import httpx
import pytest

from meet.adapters.janus.events import JanusEventVerifier
from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusTokenIssuer, JanusTokens, JanusTokenSigner
from meet.adapters.memory.bars import MemoryRoomBars
from meet.domain.conference.bars import BarReason
from meet.domain.conference.capabilities import SfuCapabilityMissing
from meet.domain.conference.enforcement import EnforcePublishGrants, RemoveImpostors
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants
from meet.domain.conference.sfu import ParticipantUpdate
from meet.domain.moderation.guard import RemoveAgainOnRejoin
from meet.domain.rooms.model import DEFAULT_SOURCES, Role, SfuRoomName, TrackSource
from meet.domain.shared.clock import SystemClock
from tests.doubles.bars import DurableBarsDouble
from tests.support.janus import Janus, plugin_event, until
from tests.support.janus_client import JanusError, JanusParticipant

UNAUTHORIZED = 403  # Janus core: wrong or missing token
VIDEOROOM_UNAUTHORIZED = 433  # VideoRoom: the join token does not grant this room
ID_EXISTS = 436


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15, trust_env=False) as client:
        yield client


@pytest.fixture
async def room(janus_sfu: JanusSfu) -> AsyncIterator[str]:
    name = f"room-{uuid.uuid4().hex[:12]}"
    await janus_sfu.ensure_room(name)
    yield name
    with contextlib.suppress(ParticipantNotInRoom):
        await janus_sfu.destroy_room(name)


@pytest.fixture
def issuer(janus: Janus, janus_tokens: JanusTokens) -> JanusTokenIssuer:
    return JanusTokenIssuer(url=janus.url, tokens=janus_tokens)


def grants(room: str, sources: tuple[TrackSource, ...] = DEFAULT_SOURCES, *, admin: bool = False) -> ParticipantGrants:
    return ParticipantGrants(room=SfuRoomName(room), room_admin=admin, publish_sources=sources)


def person(identity: str, role: Role | None = None) -> Participant:
    return Participant.build(
        identity=identity, requested_name=identity.title(), full_name=None, role=role, is_authenticated=role is not None
    )


Connect = Callable[..., Awaitable[JanusParticipant]]


@pytest.fixture
async def connect(janus: Janus, http: httpx.AsyncClient) -> AsyncIterator[Connect]:
    """Connect like a browser with a connection meet issued; joins unless ``join=False``."""
    opened: list[JanusParticipant] = []

    async def open_(
        connection: ConnectionConfig, *, identity: str | None = None, join: bool = True, opaque: str | None = "token"
    ) -> JanusParticipant:
        client = JanusParticipant(url=janus.url, token=connection.token, http=http)
        opened.append(client)
        await client.connect(opaque_id=connection.token if opaque == "token" else opaque)
        if join:
            await client.join(connection.room, identity or connection.identity, join_token=connection.join_token)
        return client

    yield open_
    for client in opened:
        await client.close()


async def identities(sfu: JanusSfu, room: str) -> set[str]:
    return {p.identity for p in await sfu.list_participants(room)}


async def test_the_token_meet_issued_joins_under_its_identity_with_its_grants(
    janus_sfu: JanusSfu, issuer: JanusTokenIssuer, connect: Connect, room: str
) -> None:
    connection = issuer.connection_for(person("alice", Role.MEMBER), grants(room, (TrackSource.MICROPHONE,)))
    assert (connection.provider, connection.room, connection.identity) == ("janus", room, "alice")
    await connect(connection)

    [alice] = await janus_sfu.list_participants(room)
    assert (alice.identity, alice.name) == ("alice", "Alice")
    assert alice.publish_sources == (TrackSource.MICROPHONE,)
    assert alice.attributes["room_role"] == "member"
    assert await janus_sfu.get_participant(room, "nobody") is None


async def test_another_rooms_join_token_is_refused(
    janus_sfu: JanusSfu, issuer: JanusTokenIssuer, connect: Connect, room: str
) -> None:
    other = f"room-{uuid.uuid4().hex[:12]}"
    await janus_sfu.ensure_room(other)
    try:
        connection = issuer.connection_for(person("mallory"), grants(other))
        client = await connect(connection, join=False)
        with pytest.raises(JanusError) as refused:
            await client.join(room, "mallory", join_token=connection.join_token)
        assert refused.value.code == VIDEOROOM_UNAUTHORIZED
        with pytest.raises(JanusError) as without:
            await client.join(room, "mallory", join_token=None)
        assert without.value.code == VIDEOROOM_UNAUTHORIZED
        assert await identities(janus_sfu, room) == set()
    finally:
        await janus_sfu.destroy_room(other)


async def test_an_expired_token_is_refused(
    janus: Janus, janus_tokens: JanusTokens, connect: Connect, http: httpx.AsyncClient, room: str
) -> None:
    past = int(time.time()) - 1
    core = janus_tokens.participant_token(person("late"), grants(room), expires_at=past)
    with pytest.raises(JanusError) as refused:
        await JanusParticipant(url=janus.url, token=core, http=http).connect()
    assert refused.value.code == UNAUTHORIZED

    fresh = JanusTokenIssuer(url=janus.url, tokens=janus_tokens).connection_for(person("late"), grants(room))
    client = await connect(fresh, join=False)
    with pytest.raises(JanusError) as expired_join:
        await client.join(room, "late", join_token=janus_tokens.join_token(room, expires_at=past))
    assert expired_join.value.code == VIDEOROOM_UNAUTHORIZED


async def test_a_token_signed_with_another_secret_is_refused(janus: Janus, http: httpx.AsyncClient, room: str) -> None:
    forged = JanusTokens(JanusTokenSigner("not-the-secret"), timedelta(minutes=5))
    token = forged.participant_token(person("eve"), grants(room), expires_at=forged.expiry())
    with pytest.raises(JanusError) as refused:
        await JanusParticipant(url=janus.url, token=token, http=http).connect()
    assert refused.value.code == UNAUTHORIZED


async def test_an_impostor_under_another_identity_is_removed(
    janus: Janus,
    janus_sfu: JanusSfu,
    janus_tokens: JanusTokens,
    issuer: JanusTokenIssuer,
    connect: Connect,
    room: str,
) -> None:
    verifier = JanusEventVerifier(user=janus.events.user, password=janus.events.password, tokens=janus_tokens)
    handler = RemoveImpostors(janus_sfu)
    delivered: list[bytes] = []
    janus.forward.append(lambda body, _auth: delivered.append(body))
    try:
        await connect(issuer.connection_for(person("bob"), grants(room)))
        # Mallory holds a valid token for this room, and joins as the room's owner.
        await connect(issuer.connection_for(person("mallory"), grants(room)), identity="owner-sub")
        # And Trudy attaches without meet's token as opaque id, under a name of her choosing.
        await connect(issuer.connection_for(person("trudy"), grants(room)), identity="random", opaque=None)
        assert await identities(janus_sfu, room) == {"bob", "owner-sub", "random"}

        async def handled() -> bool:
            for body in list(delivered):
                delivered.remove(body)
                for event in verifier.verify(body, janus.events.expected_authorization()):
                    await handler.handle(event)
            return await identities(janus_sfu, room) == {"bob"}

        await until(handled)
    finally:
        janus.forward.clear()


async def test_joined_events_say_whether_meet_issued_the_identity(
    janus: Janus, janus_tokens: JanusTokens, issuer: JanusTokenIssuer, connect: Connect, room: str
) -> None:
    verifier = JanusEventVerifier(user=janus.events.user, password=janus.events.password, tokens=janus_tokens)
    start = len(janus.events.events())
    await connect(issuer.connection_for(person("carol"), grants(room)))
    await connect(issuer.connection_for(person("dave"), grants(room)), identity="carol-2")

    def joined(identity: str) -> SfuEvent:
        raw = janus.events.wait_for(
            lambda e: plugin_event(e).get("event") == "joined" and plugin_event(e).get("id") == identity, after=start
        )
        [event] = verifier.verify(json.dumps(raw).encode(), janus.events.expected_authorization())
        return event

    carol, impostor = joined("carol"), joined("carol-2")
    assert (carol.kind, carol.room, carol.participant_identity, carol.identity_proven) == (
        "participant_joined",
        room,
        "carol",
        True,
    )
    assert (impostor.participant_identity, impostor.identity_proven) == ("carol-2", False)
    assert janus.events.rejected == 0, "Janus posted events without the configured credentials"


async def test_a_removed_participant_is_kicked_and_removed_again_on_rejoin(
    janus: Janus,
    janus_sfu: JanusSfu,
    janus_tokens: JanusTokens,
    issuer: JanusTokenIssuer,
    connect: Connect,
    room: str,
) -> None:
    connection = issuer.connection_for(person("erin"), grants(room))
    erin = await connect(connection)
    await janus_sfu.remove_participant(room, "erin")
    assert await identities(janus_sfu, room) == set()
    kicked = [e for e in await erin.events() if e.get("plugindata", {}).get("data", {}).get("leaving") == "ok"]
    assert kicked, "the kicked participant was not told it left the room"

    bars, clock = MemoryRoomBars(DurableBarsDouble()), SystemClock()
    await bars.bar(SfuRoomName(room), "erin", clock.now() + timedelta(seconds=600), BarReason.REMOVED)
    guard = RemoveAgainOnRejoin(bars, janus_sfu, clock)
    verifier = JanusEventVerifier(user=janus.events.user, password=janus.events.password, tokens=janus_tokens)
    start = len(janus.events.events())
    # The same (still valid) tokens let Erin back into Janus; meet removes her again from the joined event.
    again = await connect(connection, join=False)
    await again.join(room, "erin", join_token=connection.join_token)
    raw = janus.events.wait_for(lambda e: plugin_event(e).get("event") == "joined", after=start)
    for event in verifier.verify(json.dumps(raw).encode(), janus.events.expected_authorization()):
        await guard.handle(event)
    assert await identities(janus_sfu, room) == set()
    with pytest.raises(ParticipantNotInRoom):
        await janus_sfu.remove_participant(room, "erin")


async def test_a_mute_through_meet_is_seen_in_janus(
    janus_sfu: JanusSfu, issuer: JanusTokenIssuer, connect: Connect, room: str
) -> None:
    frank = await connect(issuer.connection_for(person("frank"), grants(room)))
    configured = await frank.publish()
    assert configured.get("configured") == "ok"
    [live] = await janus_sfu.list_participants(room)
    by_source = {track.source: track for track in live.tracks}
    assert set(by_source) == {"microphone", "camera"}
    assert not by_source["microphone"].muted

    await janus_sfu.mute_published_track(room, "frank", by_source["microphone"].sid)

    assert await frank.moderation(expect=1) == {by_source["microphone"].sid: "muted"}
    with pytest.raises(ParticipantNotInRoom):
        await janus_sfu.mute_published_track(room, "nobody", "0")


async def test_a_listen_only_participant_who_publishes_is_muted(
    janus: Janus,
    janus_sfu: JanusSfu,
    janus_tokens: JanusTokens,
    issuer: JanusTokenIssuer,
    connect: Connect,
    room: str,
) -> None:
    verifier = JanusEventVerifier(user=janus.events.user, password=janus.events.password, tokens=janus_tokens)
    enforce = EnforcePublishGrants(janus_sfu)
    start = len(janus.events.events())
    listener = await connect(issuer.connection_for(person("grace"), grants(room, ())))
    await listener.publish()
    raw = janus.events.wait_for(lambda e: plugin_event(e).get("event") == "configured", after=start)
    events = verifier.verify(json.dumps(raw).encode(), janus.events.expected_authorization())
    assert [e.kind for e in events] == ["track_published"]
    await enforce.handle(events[0])

    [grace] = await janus_sfu.list_participants(room)
    assert grace.publish_sources == ()
    assert len(grace.tracks) == 2
    assert await listener.moderation(expect=2) == {track.sid: "muted" for track in grace.tracks}


async def test_taking_a_source_away_mutes_it_live(
    janus_sfu: JanusSfu, issuer: JanusTokenIssuer, connect: Connect, room: str
) -> None:
    heidi = await connect(issuer.connection_for(person("heidi"), grants(room)))
    await heidi.publish()
    updated = await janus_sfu.update_participant(
        room, "heidi", ParticipantUpdate(publish_sources=(TrackSource.CAMERA,))
    )
    assert updated.publish_sources == (TrackSource.CAMERA,)
    mids = {t.source: t.sid for t in updated.tracks}
    assert await heidi.moderation(expect=2) == {mids["microphone"]: "muted", mids["camera"]: "unmuted"}
    with pytest.raises(SfuCapabilityMissing):
        await janus_sfu.update_participant(room, "heidi", ParticipantUpdate(name="Someone else"))


async def test_an_identity_cannot_be_in_a_room_twice(issuer: JanusTokenIssuer, connect: Connect, room: str) -> None:
    connection = issuer.connection_for(person("ivan"), grants(room))
    await connect(connection)
    second = await connect(connection, join=False)
    with pytest.raises(JanusError) as refused:
        await second.join(room, "ivan", join_token=connection.join_token)
    assert refused.value.code == ID_EXISTS


async def test_rooms_are_created_once_and_destroyed_by_meet_only(janus_sfu: JanusSfu, janus: Janus) -> None:
    name = f"room-{uuid.uuid4().hex[:12]}"
    await janus_sfu.ensure_room(name)
    await janus_sfu.ensure_room(name)  # idempotent
    start = len(janus.events.events())
    await janus_sfu.destroy_room(name)
    janus.events.wait_for(
        lambda e: plugin_event(e).get("event") == "destroyed" and plugin_event(e).get("room") == name, after=start
    )
    with pytest.raises(ParticipantNotInRoom):
        await janus_sfu.list_participants(name)
