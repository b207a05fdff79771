"""What every ``Sfu`` adapter must do, run against the LiveKit wire-level double, the memory twin and a real Janus.

Each SFU gets an arena that opens an empty live room and puts a participant in it the way that SFU
would see one: the LiveKit double is told to, the memory twin is handed one, and on Janus a real client
joins with the connection meet issued.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from livekit.api import CreateRoomRequest, LiveKitAPI

from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusTokenIssuer, JanusTokens
from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.client import LiveKitServer as Connection
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.domain.conference.capabilities import SfuCapabilities, SfuCapabilityMissing
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, Sfu
from meet.domain.rooms.model import DEFAULT_SOURCES, Role, SfuRoomName, TrackSource
from tests.doubles.sfu import MemorySfu
from tests.support.janus import Janus
from tests.support.janus_client import JanusParticipant
from tests.support.livekit_server import LiveKitServer

SFUS = ["livekit", "memory", "janus"]


@dataclass
class Arena:
    sfu: Sfu
    capabilities: SfuCapabilities
    open_room: Callable[[str], Awaitable[None]]
    enter: Callable[[str, Participant], Awaitable[None]]
    cleanup: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)


def member(identity: str, name: str) -> Participant:
    return Participant.build(
        identity=identity, requested_name=name, full_name=None, role=Role.MEMBER, is_authenticated=True
    )


@contextlib.asynccontextmanager
async def livekit_arena(livekit: LiveKitServer) -> AsyncIterator[Arena]:
    clients = LiveKitClientFactory(Connection(url=livekit.url, api_key=livekit.api_key, api_secret=livekit.api_secret))
    api = LiveKitAPI(livekit.url, livekit.api_key, livekit.api_secret, failover=False)

    async def open_room(room: str) -> None:
        await api.room.create_room(CreateRoomRequest(name=room))

    async def enter(room: str, who: Participant) -> None:
        livekit.add_participant(room, who.identity, name=who.name, attributes=who.attributes)

    sfu = LiveKitSfu(clients)
    try:
        yield Arena(sfu, sfu.capabilities, open_room, enter)
    finally:
        await api.aclose()
        await clients.aclose()


@contextlib.asynccontextmanager
async def memory_arena() -> AsyncIterator[Arena]:
    sfu = MemorySfu()

    async def open_room(room: str) -> None:
        sfu.rooms.setdefault(room, {})

    async def enter(room: str, who: Participant) -> None:
        live = LiveParticipant(
            identity=who.identity,
            name=who.name,
            attributes=who.attributes,
            can_publish=True,
            publish_sources=DEFAULT_SOURCES,
        )
        sfu.join(room, live)

    yield Arena(sfu, sfu.capabilities, open_room, enter)


@contextlib.asynccontextmanager
async def janus_arena(janus: Janus, sfu: JanusSfu, tokens: JanusTokens) -> AsyncIterator[Arena]:
    issuer = JanusTokenIssuer(url=janus.url, tokens=tokens)
    rooms: list[str] = []
    clients: list[JanusParticipant] = []

    async def open_room(room: str) -> None:
        await sfu.ensure_room(room)
        rooms.append(room)

    async def enter(room: str, who: Participant) -> None:
        connection = issuer.connection_for(
            who, ParticipantGrants(room=SfuRoomName(room), room_admin=False, publish_sources=DEFAULT_SOURCES)
        )
        client = JanusParticipant(url=janus.url, token=connection.token, http=http)
        clients.append(client)
        await client.connect(opaque_id=connection.token)
        await client.join(room, connection.identity, join_token=connection.join_token)

    async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
        try:
            yield Arena(sfu, sfu.capabilities, open_room, enter)
        finally:
            for client in clients:
                await client.close()
            for room in rooms:
                with contextlib.suppress(ParticipantNotInRoom):
                    await sfu.destroy_room(room)


@pytest.fixture(params=SFUS)
async def arena(
    request: pytest.FixtureRequest, livekit: LiveKitServer, janus: Janus, janus_sfu: JanusSfu, janus_tokens: JanusTokens
) -> AsyncIterator[Arena]:
    arenas: dict[str, Callable[[], contextlib.AbstractAsyncContextManager[Arena]]] = {
        "livekit": lambda: livekit_arena(livekit),
        "memory": memory_arena,
        "janus": lambda: janus_arena(janus, janus_sfu, janus_tokens),
    }
    async with arenas[request.param]() as opened:
        yield opened


@pytest.fixture
async def room(arena: Arena) -> str:
    name = f"contract-{uuid.uuid4().hex[:10]}"
    await arena.open_room(name)
    return name


async def test_an_empty_room_has_nobody_in_it(arena: Arena, room: str) -> None:
    assert tuple(await arena.sfu.list_participants(SfuRoomName(room))) == ()
    assert await arena.sfu.get_participant(SfuRoomName(room), "nobody") is None


async def test_a_room_that_is_not_live_lists_nobody(arena: Arena) -> None:
    """LiveKit answers an empty list, the others "not in room": callers must take both as nobody."""
    absent = f"absent-{uuid.uuid4().hex[:10]}"
    with contextlib.suppress(ParticipantNotInRoom):
        assert tuple(await arena.sfu.list_participants(SfuRoomName(absent))) == ()
    assert await arena.sfu.get_participant(SfuRoomName(absent), "nobody") is None


async def test_who_is_in_the_room_is_listed_under_the_identity_and_name_meet_issued(arena: Arena, room: str) -> None:
    await arena.enter(room, member("alice-sub", "Alice"))
    await arena.enter(room, member("bob-sub", "Bob"))

    listed = {p.identity: p for p in await arena.sfu.list_participants(SfuRoomName(room))}

    assert set(listed) == {"alice-sub", "bob-sub"}
    assert listed["alice-sub"].name == "Alice"
    assert listed["alice-sub"].attributes["room_role"] == "member"
    found = await arena.sfu.get_participant(SfuRoomName(room), "bob-sub")
    assert found is not None
    assert found.name == "Bob"


async def test_a_removed_participant_is_gone(arena: Arena, room: str) -> None:
    await arena.enter(room, member("carol-sub", "Carol"))
    await arena.sfu.remove_participant(SfuRoomName(room), "carol-sub")
    assert await arena.sfu.get_participant(SfuRoomName(room), "carol-sub") is None


async def test_acting_on_someone_absent_is_not_in_room(arena: Arena, room: str) -> None:
    with pytest.raises(ParticipantNotInRoom):
        await arena.sfu.remove_participant(SfuRoomName(room), "nobody")
    with pytest.raises(ParticipantNotInRoom):
        await arena.sfu.update_participant(SfuRoomName(room), "nobody", ParticipantUpdate(publish_sources=()))
    with pytest.raises(ParticipantNotInRoom):
        await arena.sfu.mute_published_track(SfuRoomName(room), "nobody", "TR_none")


async def test_publishing_rights_change_live(arena: Arena, room: str) -> None:
    await arena.enter(room, member("dave-sub", "Dave"))
    updated = await arena.sfu.update_participant(
        SfuRoomName(room), "dave-sub", ParticipantUpdate(publish_sources=(TrackSource.MICROPHONE,))
    )
    assert updated.identity == "dave-sub"
    assert updated.publish_sources == (TrackSource.MICROPHONE,)
    assert updated.can_publish


async def test_what_the_sfu_cannot_do_is_refused_naming_the_capability(arena: Arena, room: str) -> None:
    await arena.enter(room, member("erin-sub", "Erin"))
    operations: dict[str, Callable[[], Awaitable[Any]]] = {
        "server_data_messages": lambda: arena.sfu.send_data(
            SfuRoomName(room), b"{}", topic="lobby", destination_identities=["erin-sub"]
        ),
        "room_metadata": lambda: arena.sfu.update_room_metadata(SfuRoomName(room), {"access_level": "public"}),
        "participant_attributes": lambda: arena.sfu.update_participant(
            SfuRoomName(room), "erin-sub", ParticipantUpdate(attributes={"handRaisedAt": "now"})
        ),
    }
    for capability, operation in operations.items():
        if getattr(arena.capabilities, capability):
            await operation()
        else:
            with pytest.raises(SfuCapabilityMissing) as refused:
                await operation()
            assert capability in refused.value.message
            assert refused.value.field == capability
