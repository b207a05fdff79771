from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims

from meet.domain.conference.bars import BarReason
from meet.domain.conference.model import COLOR_ATTRIBUTE
from meet.domain.lobby.errors import AlreadyDecided, LobbyEntryNotFound
from meet.domain.lobby.model import LobbyEntry, LobbyEvent, LobbyStatus, LobbyTimeouts
from meet.domain.lobby.use_cases import (
    AwaitChangeRequest,
    DecideEntryRequest,
    EntryView,
    ListWaitingRequest,
    LobbyPolicy,
    RequestEntryRequest,
    WaitForDecisionRequest,
)
from meet.domain.rooms.errors import NotRoomAdmin
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomRef, SfuRoomName
from meet.domain.shared.errors import AuthenticationRequired, RateLimited
from meet.domain.shared.text import color_for
from meet.domain.users.model import Viewer
from tests.support.janus import until
from tests.unit.lobby.conftest import Lobby, RecordingNotifier
from tests.unit.rooms.conftest import World

ANONYMOUS = Viewer.anonymous()


async def restricted_room(lobby: Lobby) -> Room:
    await lobby.world.user("owner")
    room = await lobby.world.room("Board", owner=Role.OWNER)
    room.access_level = AccessLevel.RESTRICTED
    await lobby.world.rooms.update(room)
    return room


async def knock(lobby: Lobby, room: Room, credential: str | None = None, name: str = "Zoe") -> EntryView:
    return await lobby.request_entry().execute(
        RequestEntryRequest(
            ANONYMOUS,
            RoomRef(str(room.id)),
            username=name,
            credentials=[credential] if credential else [],
            client_address="10.0.0.1",
        )
    )


def claims_of(view: EntryView) -> Claims:
    assert view.connection is not None
    return TokenVerifier("devkey", "secret").verify(view.connection.token)


def identity_of(view: EntryView) -> str:
    return claims_of(view).identity


async def test_an_outsider_waits_and_polls_keep_the_same_server_issued_identity(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    poll = await knock(lobby, room, first.credential)
    assert first.status is LobbyStatus.WAITING
    assert first.connection is None
    assert poll.participant_id == first.participant_id
    uuid.UUID(first.participant_id, version=4)


async def test_a_forged_credential_gets_a_new_participant_never_the_victims_entry(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    victim = await knock(lobby, room)
    forged = await knock(lobby, room, f"{victim.participant_id}.AAAA")
    assert forged.participant_id != victim.participant_id


async def test_once_accepted_the_poll_returns_a_token_for_that_same_participant_and_color(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    waiting = await knock(lobby, room)
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), waiting.participant_id, allow=True))
    accepted = await knock(lobby, room, waiting.credential)
    assert accepted.status is LobbyStatus.ACCEPTED
    assert identity_of(accepted) == waiting.participant_id
    attributes = claims_of(accepted).attributes or {}
    assert attributes[COLOR_ATTRIBUTE] == waiting.color == color_for(waiting.participant_id)


async def test_whom_the_policy_lets_in_gets_a_token_at_once_and_leaves_nothing_waiting(lobby: Lobby) -> None:
    await lobby.world.user("owner")
    room = await lobby.world.room("Town hall", owner=Role.OWNER)  # public
    view = await knock(lobby, room)
    assert view.status is LobbyStatus.ACCEPTED
    assert identity_of(view) == view.participant_id
    page = await lobby.store.waiting(room.sfu_room_name, limit=10, after=None, now=lobby.clock.now())
    assert page.count == 0
    assert lobby.notifier.knocks == []


async def test_a_room_made_public_lets_its_waiting_people_in_at_their_next_poll(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    waiting = await knock(lobby, room)
    room.access_level = AccessLevel.PUBLIC
    await lobby.world.rooms.update(room)
    assert (await knock(lobby, room, waiting.credential)).status is LobbyStatus.ACCEPTED


async def test_a_barred_identity_is_denied_and_given_no_token(world: World) -> None:
    lobby = Lobby(world)
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    now = lobby.clock.now()
    await lobby.bars.bar(room.sfu_room_name, first.participant_id, now + timedelta(seconds=60), BarReason.REMOVED)
    again = await knock(lobby, room, first.credential)
    assert again.status is LobbyStatus.DENIED
    assert again.connection is None
    # the stream asks the same bars
    updates = await lobby.wait().execute(
        WaitForDecisionRequest(ANONYMOUS, RoomRef(str(room.id)), credentials=[first.credential])
    )
    denied = await anext(updates)
    assert denied.entry is not None
    assert denied.entry.status is LobbyStatus.DENIED
    with pytest.raises(StopAsyncIteration):
        await anext(updates)


async def test_knocks_are_rate_limited_per_credential_and_new_ones_per_address(world: World) -> None:
    lobby = Lobby(
        world, policy=LobbyPolicy(knocks_per_minute_per_participant=3, new_participants_per_minute_per_address=2)
    )
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    for _ in range(3):
        await knock(lobby, room, first.credential)
    with pytest.raises(RateLimited) as limited:
        await knock(lobby, room, first.credential)
    assert limited.value.retry_after_seconds >= 1
    await knock(lobby, room)  # the address's second new participant
    with pytest.raises(RateLimited):
        await knock(lobby, room)


async def test_a_hanging_or_failing_notifier_neither_fails_nor_holds_the_knock(world: object) -> None:
    hanging, failing = RecordingNotifier(hang=True), RecordingNotifier(fail=True)
    lobby = Lobby(world, notifier=hanging)  # type: ignore[arg-type]
    room = await restricted_room(lobby)
    assert (await knock(lobby, room)).status is LobbyStatus.WAITING
    lobby.notifier = failing
    assert (await knock(lobby, room)).status is LobbyStatus.WAITING
    for _ in range(5):  # let the background notifications start; nothing is timed
        await asyncio.sleep(0)
    assert len(hanging.knocks) == len(failing.knocks) == 1


async def test_only_admins_list_and_decide(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    member = await lobby.world.user("member")
    assert member.user_id is not None
    await lobby.world.accesses.add(RoomAccess.grant(room.id, member.user_id, Role.MEMBER))
    with pytest.raises(AuthenticationRequired):
        await lobby.list_waiting().execute(ListWaitingRequest(ANONYMOUS, RoomRef(str(room.id)), limit=10, after=None))
    with pytest.raises(NotRoomAdmin):
        await lobby.list_waiting().execute(ListWaitingRequest(member, RoomRef(str(room.id)), limit=10, after=None))
    with pytest.raises(NotRoomAdmin):
        await lobby.decide().execute(DecideEntryRequest(member, RoomRef(str(room.id)), str(uuid.uuid4()), allow=True))


async def test_a_contrary_second_decision_is_reported_not_recorded(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    waiting = await knock(lobby, room)
    decided = await lobby.decide().execute(
        DecideEntryRequest(owner, RoomRef(str(room.id)), waiting.participant_id, allow=False)
    )
    again = await lobby.decide().execute(
        DecideEntryRequest(owner, RoomRef(str(room.id)), waiting.participant_id, allow=False)
    )
    assert decided.status is again.status is LobbyStatus.DENIED
    with pytest.raises(AlreadyDecided):
        await lobby.decide().execute(
            DecideEntryRequest(owner, RoomRef(str(room.id)), waiting.participant_id, allow=True)
        )
    with pytest.raises(LobbyEntryNotFound):
        await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), "not-a-uuid", allow=True))


async def test_holding_the_stream_keeps_the_entry_alive_and_it_pushes_the_decision(world: object) -> None:
    lobby = Lobby(world, policy=LobbyPolicy(timeouts=LobbyTimeouts(waiting=30)))  # type: ignore[arg-type]
    room = await restricted_room(lobby)
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    streaming, idle = await knock(lobby, room), await knock(lobby, room, name="Idle")
    updates = await lobby.wait().execute(
        WaitForDecisionRequest(ANONYMOUS, RoomRef(str(room.id)), credentials=[streaming.credential])
    )
    first = await anext(updates)
    assert first.kind == "status"
    assert first.entry is not None
    assert first.entry.status is LobbyStatus.WAITING
    for _ in range(5):  # 100 s pass: far beyond the waiting timeout, the entry kept alive meanwhile
        lobby.clock.advance(20)
        await lobby.presence.refresh_now()
    listed = await lobby.list_waiting().execute(ListWaitingRequest(owner, RoomRef(str(room.id)), limit=10, after=None))
    assert [e.participant_id for e in listed.entries] == [streaming.participant_id]
    assert idle.participant_id not in {e.participant_id for e in listed.entries}
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), streaming.participant_id, allow=True))
    update = await anext(updates)
    assert update.kind == "status"
    assert update.entry is not None
    assert update.entry.status is LobbyStatus.ACCEPTED
    assert identity_of(update.entry) == streaming.participant_id
    with pytest.raises(StopAsyncIteration):
        await anext(updates)


async def test_a_stream_for_an_unknown_credential_is_refused_up_front(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    with pytest.raises(LobbyEntryNotFound):
        await lobby.wait().execute(WaitForDecisionRequest(ANONYMOUS, RoomRef(str(room.id)), credentials=["nope"]))


async def test_a_poll_of_a_known_waiting_entry_says_so_and_a_knock_or_a_forgery_does_not(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    assert first.known is False  # a knock: nobody knew this entry yet
    assert (await knock(lobby, room, first.credential)).known is True
    assert (await knock(lobby, room, f"{first.participant_id}.AAAA")).known is False


def held_poll_listens(lobby: Lobby, room: Room) -> Callable[[], Awaitable[bool]]:
    async def listens() -> bool:
        return lobby.events._fanout.watches(room.sfu_room_name)

    return listens


async def test_a_held_poll_gets_the_decision_taken_while_it_waits(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    seen = await knock(lobby, room, first.credential)
    held = asyncio.create_task(
        lobby.await_change().execute(AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=30))
    )
    await until(held_poll_listens(lobby, room))  # the poll listens: decide now
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), first.participant_id, allow=True))
    accepted = await asyncio.wait_for(held, 5)
    assert accepted is not None
    assert (accepted.status, accepted.participant_id) == (LobbyStatus.ACCEPTED, first.participant_id)
    assert identity_of(accepted) == first.participant_id


async def test_a_held_poll_with_nothing_new_answers_nothing(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    first = await knock(lobby, room)
    seen = await knock(lobby, room, first.credential)
    request = AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=0)
    assert await lobby.await_change().execute(request) is None
    # Decided before the poll listened: it is read once listening, so it is not missed.
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), first.participant_id, allow=False))
    denied = await lobby.await_change().execute(request)
    assert denied is not None
    assert denied.status is LobbyStatus.DENIED


async def test_a_held_poll_ending_while_the_rooms_decisions_arrive_reads_its_own_not_yet_heard(lobby: Lobby) -> None:
    """An admit-all reaches a process a message at a time: a wait that ends before its own message is read
    answers the decision, rather than "waiting" (and a poll again within the second)."""
    room = await restricted_room(lobby)
    other, first = await knock(lobby, room), await knock(lobby, room)
    seen = await knock(lobby, room, first.credential)
    publish = lobby.events.publish

    def in_flight(name: SfuRoomName, event: LobbyEvent) -> None:
        if event.participant_id != first.participant_id:  # this participant's message is not read yet
            publish(name, event)

    lobby.events.publish = in_flight  # type: ignore[method-assign,assignment]
    request = AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=0.5, grace_seconds=0.1)
    held = asyncio.create_task(lobby.await_change().execute(request))
    await until(held_poll_listens(lobby, room))
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    for participant in (other, first):
        await lobby.decide().execute(
            DecideEntryRequest(owner, RoomRef(str(room.id)), participant.participant_id, allow=True)
        )
    accepted = await asyncio.wait_for(held, 5)
    assert accepted is not None
    assert (accepted.status, accepted.participant_id) == (LobbyStatus.ACCEPTED, first.participant_id)


async def test_a_held_poll_ending_after_an_admit_all_began_here_waits_for_its_decision(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    other, first = await knock(lobby, room), await knock(lobby, room)
    other_seen, seen = await knock(lobby, room, other.credential), await knock(lobby, room, first.credential)
    holding = asyncio.create_task(
        lobby.await_change().execute(AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), other_seen, seconds=30))
    )
    await until(held_poll_listens(lobby, room))
    lobby.events.deciding(room.sfu_room_name)  # what an admit-all does first
    # This poll's hold is over at once: were no admit-all begun, it would answer "waiting" straight away.
    request = AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=0, grace_seconds=30)
    held = asyncio.create_task(lobby.await_change().execute(request))

    async def waiting_or_done() -> bool:
        return held.done() or first.participant_id in lobby.events._fanout._participants.get(room.sfu_room_name, {})

    await until(waiting_or_done)  # its hold is over: it listens on (or has answered)
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), first.participant_id, allow=True))
    accepted = await asyncio.wait_for(held, 5)
    holding.cancel()
    assert accepted is not None
    assert (accepted.status, accepted.participant_id) == (LobbyStatus.ACCEPTED, first.participant_id)


async def hold_someone_else(lobby: Lobby, room: Room) -> asyncio.Task[EntryView | None]:
    """A town hall: someone else's poll is held in this process, so the room's events are heard here."""
    other = await knock(lobby, room, name="Other")
    other_seen = await knock(lobby, room, other.credential)
    holding = asyncio.create_task(
        lobby.await_change().execute(AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), other_seen, seconds=30))
    )
    await until(held_poll_listens(lobby, room))
    return holding


async def test_a_decision_taken_between_a_polls_knock_and_its_wait_is_answered_at_once(lobby: Lobby) -> None:
    room = await restricted_room(lobby)
    holding = await hold_someone_else(lobby, room)
    first = await knock(lobby, room)
    seen = await knock(lobby, room, first.credential)
    assert seen.status is LobbyStatus.WAITING
    owner = Viewer.of(await lobby.world.users.get_by_sub("owner"))  # type: ignore[arg-type]
    await lobby.decide().execute(DecideEntryRequest(owner, RoomRef(str(room.id)), first.participant_id, allow=True))
    # The decision was published before this poll listened: it must not wait its 30 s for an event gone by.
    request = AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=30)
    accepted = await asyncio.wait_for(lobby.await_change().execute(request), 5)
    holding.cancel()
    assert accepted is not None
    assert accepted.status is LobbyStatus.ACCEPTED


async def test_a_held_poll_reads_the_store_again_only_when_a_change_may_have_come_since_its_knock(
    lobby: Lobby, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await restricted_room(lobby)
    holding = await hold_someone_else(lobby, room)
    first = await knock(lobby, room)
    reads: list[str] = []
    touch = lobby.store.touch

    async def counted(name: SfuRoomName, participant_id: str, *args: Any) -> LobbyEntry | None:
        reads.append(participant_id)
        return await touch(name, participant_id, *args)

    monkeypatch.setattr(lobby.store, "touch", counted)
    seen = await knock(lobby, room, first.credential)
    request = AwaitChangeRequest(ANONYMOUS, RoomRef(str(room.id)), seen, seconds=0)
    assert await lobby.await_change().execute(request) is None
    assert first.participant_id not in reads  # nothing of the room came since the knock read the entry
    await knock(lobby, room, name="Newcomer")  # a change in the room, heard here
    assert await lobby.await_change().execute(request) is None
    assert reads.count(first.participant_id) == 1  # it may have been about this participant: read again
    holding.cancel()
