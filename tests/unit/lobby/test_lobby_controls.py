"""The host's controls as use cases (memory store): what a reason, a message and a block look like to
whoever is at the door."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator

import pytest

from meet.domain.lobby.controls import DenyEveryone, DenyEveryoneRequest, SpeakToWaiting, SpeakToWaitingRequest
from meet.domain.lobby.errors import LobbyBlocked, LobbyEntryNotFound
from meet.domain.lobby.model import LobbyStatus, LobbyTimeouts
from meet.domain.lobby.use_cases import (
    DecideEntryRequest,
    EntryView,
    LobbyPolicy,
    RequestEntryRequest,
    WaitForDecisionRequest,
)
from meet.domain.rooms.errors import NotRoomAdmin
from meet.domain.rooms.model import Room, RoomRef
from meet.domain.shared.errors import InvalidInput, RateLimited
from meet.domain.users.model import Viewer
from tests.unit.lobby.conftest import Lobby
from tests.unit.lobby.test_lobby_use_cases import ANONYMOUS, restricted_room
from tests.unit.rooms.conftest import World


async def owner_of(lobby: Lobby) -> Viewer:
    return Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]


async def knock(lobby: Lobby, room: Room, address: str, credential: str | None = None) -> EntryView:
    return await lobby.request_entry().execute(
        RequestEntryRequest(
            ANONYMOUS,
            RoomRef(str(room.id)),
            username="Zoe",
            credentials=[credential] if credential else [],
            client_address=address,
        )
    )


def speak(lobby: Lobby) -> SpeakToWaiting:
    return SpeakToWaiting(lobby.world.locator(), lobby.store, lobby.clock, lobby.policy)


async def test_a_denials_reason_is_cleaned_shown_on_the_poll_and_refused_with_an_admission(lobby: Lobby) -> None:
    room, owner = await restricted_room(lobby), await owner_of(lobby)
    zoe = await knock(lobby, room, "10.0.0.1")
    ref = RoomRef(str(room.id))
    with pytest.raises(InvalidInput) as refused:
        await lobby.decide().execute(DecideEntryRequest(owner, ref, zoe.participant_id, allow=True, reason="Hi"))
    assert refused.value.field == "reason"
    denied = await lobby.decide().execute(
        DecideEntryRequest(owner, ref, zoe.participant_id, allow=False, reason=" Not\ttoday\u202e\x00 ")
    )
    assert denied.reason == "Not today"
    poll = await knock(lobby, room, "10.0.0.1", zoe.credential)
    assert (poll.status, poll.reason, poll.connection) == (LobbyStatus.DENIED, "Not today", None)


async def test_the_knock_after_too_many_denials_is_refused_as_blocked(world: World) -> None:
    lobby = Lobby(world, policy=LobbyPolicy(timeouts=LobbyTimeouts(denied=1, denials_before_block=2)))
    room, owner = await restricted_room(lobby), await owner_of(lobby)
    ref = RoomRef(str(room.id))
    colleague = await knock(lobby, room, "10.0.0.9")  # waiting behind the same NAT, never denied
    for _ in range(2):
        guest = await knock(lobby, room, "10.0.0.9")
        await lobby.decide().execute(DecideEntryRequest(owner, ref, guest.participant_id, allow=False))
    with pytest.raises(LobbyBlocked):
        await knock(lobby, room, "10.0.0.9")  # a newcomer from the blocked address
    assert (await knock(lobby, room, "10.0.0.10")).status is LobbyStatus.WAITING
    # Someone already waiting from that address keeps polling: only their own denials would block them.
    assert (await knock(lobby, room, "10.0.0.9", colleague.credential)).status is LobbyStatus.WAITING


async def test_deny_everyone_is_for_admins_and_denies_all_waiting_with_the_reason(lobby: Lobby) -> None:
    room, owner = await restricted_room(lobby), await owner_of(lobby)
    crowd = [await knock(lobby, room, f"10.0.1.{n}") for n in range(3)]
    deny_all = DenyEveryone(lobby.world.locator(), lobby.store, lobby.clock, lobby.policy)
    member = await lobby.world.user("stranger")
    with pytest.raises(NotRoomAdmin):
        await deny_all.execute(DenyEveryoneRequest(member, RoomRef(str(room.id))))
    assert await deny_all.execute(DenyEveryoneRequest(owner, RoomRef(str(room.id)), reason="Full\n")) == 3
    for n, guest in enumerate(crowd):
        poll = await knock(lobby, room, f"10.0.1.{n}", guest.credential)
        assert (poll.status, poll.reason) == (LobbyStatus.DENIED, "Full")
    assert lobby.ledger.bulk_writes == 1


async def test_a_message_is_cleaned_streamed_and_polled_and_rate_limited(world: World) -> None:
    lobby = Lobby(world, policy=LobbyPolicy(messages_per_minute=2))
    room, owner = await restricted_room(lobby), await owner_of(lobby)
    ref = RoomRef(str(room.id))
    zoe = await knock(lobby, room, "10.0.0.1")
    with pytest.raises(InvalidInput):
        await speak(lobby).execute(SpeakToWaitingRequest(owner, ref, "\x00\u202e \n"))
    with pytest.raises(LobbyEntryNotFound):
        await speak(lobby).execute(SpeakToWaitingRequest(owner, ref, "hi", participant_id="not-a-uuid"))
    with pytest.raises(LobbyEntryNotFound):
        await speak(lobby).execute(SpeakToWaitingRequest(owner, ref, "hi", participant_id=str(uuid.uuid4())))
    updates = await lobby.wait().execute(WaitForDecisionRequest(ANONYMOUS, ref, credentials=[zoe.credential]))
    first = await anext(updates)
    assert (first.kind, first.entry and first.entry.status) == ("status", LobbyStatus.WAITING)
    sent = await speak(lobby).execute(SpeakToWaitingRequest(owner, ref, "We start\nsoon"))
    assert sent.text == "We start soon"
    pushed = await anext(updates)
    assert (pushed.kind, pushed.message) == ("message", sent)
    assert not pushed.ends_stream
    poll = await knock(lobby, room, "10.0.0.1", zoe.credential)
    assert poll.message == sent
    await speak(lobby).execute(
        SpeakToWaitingRequest(owner, ref, "Zoe, you are next", participant_id=zoe.participant_id)
    )
    with pytest.raises(RateLimited):
        await speak(lobby).execute(SpeakToWaitingRequest(owner, ref, "a third"))
    assert isinstance(updates, AsyncGenerator)
    await updates.aclose()  # the stream's listener and presence end with it
