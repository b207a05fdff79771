"""The host's controls of the door, part of the lobby store's contract (the same backends: memory, Redis,
Redis Cluster): a denial's reason, deny-all, blocks of repeated knocking, messages to those waiting, and
how they race with the other decisions."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest

from meet.domain.conference.bars import BarReason
from meet.domain.lobby.blocks import address_block, blocks_for, participant_block
from meet.domain.lobby.errors import LobbyEntryNotFound
from meet.domain.lobby.model import (
    DecisionResult,
    KnockGate,
    LobbyEntry,
    LobbyEventType,
    LobbyMessage,
    LobbyStatus,
    LobbyTimeouts,
)
from meet.domain.lobby.ports import ParticipantEvents
from meet.domain.lobby.records import LobbyRecord
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.events import Action
from tests.integration.lobby.conftest import Backend
from tests.support.clock import FakeClock

# Short denials, so the same participant can be denied again within the window.
TIMEOUTS = LobbyTimeouts(waiting=30, accepted=600, denied=10, denials_before_block=3, denial_window=600, blocked=3600)
ADDRESS = "203.0.113.7"


def new_room() -> SfuRoomName:
    return SfuRoomName(str(uuid.uuid4()))


def gate(participant_id: str | None, address: str | None = ADDRESS) -> KnockGate:
    """A knock's gate as RequestEntry builds it: the participant's bars and blocks; a newcomer's address's."""
    identities = (participant_id,) if participant_id else ()
    blocks = blocks_for(identities, None if participant_id else address)
    return KnockGate("open", 1_000_000, identities=identities, blocks=blocks)


async def knock(
    backend: Backend, room: SfuRoomName, clock: FakeClock, participant_id: str | None = None, address: str = ADDRESS
) -> LobbyEntry:
    """A knock that passes (a new participant unless ``participant_id`` is given)."""
    pid = participant_id or str(uuid.uuid4())
    offered = LobbyEntry.knock(pid, "Zoe", clock.now(), address=address)
    result = await backend.store.knock(room, offered, clock.now(), TIMEOUTS, gate(participant_id, address))
    assert result.gate.passed, result.gate
    return result.entry


async def deny(
    backend: Backend, room: SfuRoomName, clock: FakeClock, participant_id: str, reason: str | None = None
) -> DecisionResult:
    result = await backend.store.decide(
        room, participant_id, allow=False, decided_by="admin", now=clock.now(), timeouts=TIMEOUTS, reason=reason
    )
    assert result is not None
    assert result.changed
    return result


async def listening(
    stack: contextlib.AsyncExitStack, backend: Backend, room: SfuRoomName, entries: list[LobbyEntry]
) -> list[ParticipantEvents]:
    """Each entry's participant feed, open until ``stack`` closes."""
    return [await stack.enter_async_context(backend.events.of_participant(room, e.participant_id)) for e in entries]


async def records_of(backend: Backend, room: SfuRoomName) -> list[LobbyRecord]:
    consumer = backend.consumer()
    found: list[LobbyRecord] = []
    for _ in range(20):
        batch = await consumer.claim(1000)
        if not batch:
            break
        found.extend(record for record in batch if record.room == room)
        await consumer.acknowledge(batch)
    return found


async def test_a_denial_keeps_its_reason_on_the_entry_its_event_and_its_record(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        decided = await deny(backend, room, clock, entry.participant_id, reason="Not on the guest list")
        heard = await feed.next_event(5)
    assert decided.entry.reason == "Not on the guest list"
    assert heard is not None
    assert heard.entry is not None
    assert heard.entry.reason == "Not on the guest list"
    seen = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
    assert seen is not None
    assert (seen.status, seen.reason) == (LobbyStatus.DENIED, "Not on the guest list")
    denied = [r for r in await records_of(backend, room) if r.action is Action.LOBBY_DENIED]
    assert [(r.participant_id, r.reason, r.by) for r in denied] == [
        (entry.participant_id, "Not on the guest list", "admin")
    ]


async def test_deny_all_denies_and_bars_everyone_waiting_in_one_durable_write(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, address=f"198.51.100.{i}") for i in range(1_200)]
    admitted = await knock(backend, room, clock)
    await backend.store.decide(
        room, admitted.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    writes = backend.ledger.bulk_writes
    async with contextlib.AsyncExitStack() as stack:
        feeds = await listening(stack, backend, room, entries)
        count = await backend.store.deny_all(
            room, decided_by="admin", now=clock.now(), timeouts=TIMEOUTS, reason="Full"
        )
        heard = [await feed.next_event(5) for feed in feeds]
    assert count == 1_200
    assert backend.ledger.bulk_writes == writes + 1  # one write for the 1,200 bars (no block was reached)
    assert all(e is not None and e.entry is not None for e in heard)
    assert {(e.entry.status, e.entry.reason) for e in heard if e and e.entry} == {(LobbyStatus.DENIED, "Full")}
    until = clock.now() + timedelta(seconds=TIMEOUTS.denied)
    assert all(backend.ledger.bars[(room, e.participant_id)] == until for e in entries)
    assert backend.ledger.reasons[(room, entries[0].participant_id)] is BarReason.DENIED
    assert (room, admitted.participant_id) not in backend.ledger.bars  # decided before: untouched
    again = LobbyEntry.knock(entries[5].participant_id, "Zoe", clock.now())
    assert (await backend.store.knock(room, again, clock.now(), TIMEOUTS, gate(entries[5].participant_id))).gate.barred
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0
    assert await backend.store.deny_all(room, decided_by="admin", now=clock.now(), timeouts=TIMEOUTS) == 0
    denied = [r for r in await records_of(backend, room) if r.action is Action.LOBBY_DENIED]
    assert [(r.count, r.reason) for r in denied] == [(1_200, "Full")]


async def test_a_participant_denied_too_often_within_the_window_is_blocked_durably(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    first = await knock(backend, room, clock, address="198.51.100.1")
    pid = first.participant_id
    for n in range(TIMEOUTS.denials_before_block):
        result = await deny(backend, room, clock, pid)
        blocked_now = n == TIMEOUTS.denials_before_block - 1
        both = (participant_block(pid), address_block("198.51.100.1"))
        assert result.blocked == (both if blocked_now else ()), n
        clock.advance(TIMEOUTS.denied + 1)  # the denial's short bar has ended
        offered = LobbyEntry.knock(pid, "Zoe", clock.now(), address="198.51.100.1")
        again = await backend.store.knock(room, offered, clock.now(), TIMEOUTS, gate(pid, "198.51.100.1"))
        assert again.gate.blocked is blocked_now, n
        assert again.created is not blocked_now
    assert backend.ledger.reasons[(room, participant_block(pid))] is BarReason.BLOCKED
    assert backend.ledger.bars[(room, participant_block(pid))] > clock.now() + timedelta(seconds=3000)
    # The address was denied three times too (the same participant's knocks): a newcomer from it is blocked.
    assert (await backend.store.pass_gate(room, gate(None, "198.51.100.1"), clock.now())).blocked
    assert (await backend.store.pass_gate(room, gate(None, "198.51.100.2"), clock.now())).passed
    blocks = [r for r in await records_of(backend, room) if r.action is Action.LOBBY_BLOCKED]
    assert sorted((r.participant_id, r.reason) for r in blocks) == [(pid, "address"), (pid, "participant")]
    # Durably: a cache that lost everything reloads the blocks from the ledger.
    if backend.redis is not None:
        await backend.redis.flushdb()
    store = backend.forget_cache()
    assert (await store.pass_gate(room, gate(pid, None), clock.now())).blocked
    assert (await store.pass_gate(room, gate(None, "198.51.100.1"), clock.now())).blocked
    clock.advance(TIMEOUTS.blocked)
    assert (await store.pass_gate(room, gate(pid, None), clock.now())).passed


async def test_an_address_denied_too_often_blocks_every_newcomer_from_it(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    for _ in range(TIMEOUTS.denials_before_block):
        entry = await knock(backend, room, clock, address=ADDRESS)  # a new participant each time
        await deny(backend, room, clock, entry.participant_id)
    assert backend.ledger.reasons[(room, address_block(ADDRESS))] is BarReason.BLOCKED
    newcomer = LobbyEntry.knock(str(uuid.uuid4()), "Zoe", clock.now(), address=ADDRESS)
    refused = await backend.store.knock(room, newcomer, clock.now(), TIMEOUTS, gate(None, ADDRESS))
    assert refused.gate.blocked
    assert not refused.created
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0
    assert (await backend.store.pass_gate(room, gate(None, "192.0.2.1"), clock.now())).passed
    # Another room does not know this address's denials.
    assert (await backend.store.pass_gate(new_room(), gate(None, ADDRESS), clock.now())).passed


async def test_denials_spread_beyond_the_window_never_block(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    pid = (await knock(backend, room, clock)).participant_id
    for _ in range(TIMEOUTS.denials_before_block + 2):
        result = await deny(backend, room, clock, pid)
        assert result.blocked == ()
        clock.advance(TIMEOUTS.denial_window // 2 + 1)  # at most two denials in any window
        await knock(backend, room, clock, pid)
    assert not [key for key in backend.ledger.reasons if key[1].startswith("blocked:")]


async def test_deny_all_counts_once_against_each_participant_and_each_address(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    for round_ in range(TIMEOUTS.denials_before_block):
        crowd = [await knock(backend, room, clock, address=ADDRESS) for _ in range(5)]
        await backend.store.deny_all(room, decided_by="admin", now=clock.now(), timeouts=TIMEOUTS)
        newcomer = await backend.store.pass_gate(room, gate(None, ADDRESS), clock.now())
        assert newcomer.blocked is (round_ == TIMEOUTS.denials_before_block - 1), round_
        assert all((room, participant_block(e.participant_id)) not in backend.ledger.bars for e in crowd)
    assert backend.ledger.bars[(room, address_block(ADDRESS))] == clock.now() + timedelta(seconds=TIMEOUTS.blocked)


async def test_a_message_reaches_the_waiting_streams_at_once_and_their_next_poll(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    zoe, max_ = await knock(backend, room, clock), await knock(backend, room, clock)
    async with (
        backend.events.of_participant(room, zoe.participant_id) as zoe_feed,
        backend.events.of_participant(room, max_.participant_id) as max_feed,
        backend.events.of_room(room) as admins,
    ):
        everyone = LobbyMessage("We start in 5 minutes", clock.now(), sent_by="admin")
        assert await backend.store.message(room, everyone, limit=10, window_seconds=60, timeouts=TIMEOUTS) is None
        heard = [await zoe_feed.next_event(5), await max_feed.next_event(5)]
        clock.advance(1)
        personal = LobbyMessage("Max, your turn next", clock.now(), max_.participant_id, sent_by="admin")
        assert await backend.store.message(room, personal, limit=10, window_seconds=60, timeouts=TIMEOUTS) is None
        to_max = await max_feed.next_event(5)
        assert await zoe_feed.next_event(0.2) is None  # a message to Max reaches Max only
        assert await admins.next_changes(0.2) == ()  # messages are for those waiting, not the admins' list
    for event in heard:
        assert event is not None
        assert event.type is LobbyEventType.MESSAGE
        assert event.message is not None
        assert (event.message.text, event.message.participant_id) == ("We start in 5 minutes", None)
    assert to_max is not None
    assert to_max.message is not None
    assert (to_max.type, to_max.message.text) == (LobbyEventType.MESSAGE, "Max, your turn next")
    # Polls (a knock with the credential) and reads carry the latest message to them.
    poll = await backend.store.knock(
        room, LobbyEntry.knock(zoe.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS, gate(zoe.participant_id)
    )
    assert poll.entry.message is not None
    assert poll.entry.message.text == "We start in 5 minutes"
    assert poll.entry.message.sent_at == everyone.sent_at
    seen = await backend.store.touch(room, max_.participant_id, clock.now(), TIMEOUTS)
    assert seen is not None
    assert seen.message is not None
    assert seen.message.text == "Max, your turn next"
    newcomer = await knock(backend, room, clock)
    assert newcomer.message is not None
    assert newcomer.message.text == "We start in 5 minutes"  # the message to everyone waiting, the latest
    messaged = [r for r in await records_of(backend, room) if r.action is Action.LOBBY_MESSAGED]
    assert [(r.participant_id, r.count, r.by) for r in messaged] == [
        (None, 2, "admin"),
        (max_.participant_id, 1, "admin"),
    ]
    await backend.store.clear(room)
    back = await knock(backend, room, clock)
    assert back.message is None  # a finished room's messages go with its lobby


async def test_messages_are_rate_limited_per_room_and_need_a_waiting_recipient(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    for n in range(3):
        message = LobbyMessage(f"message {n}", clock.now())
        assert await backend.store.message(room, message, limit=3, window_seconds=60, timeouts=TIMEOUTS) is None
    refused = LobbyMessage("one too many", clock.now())
    retry_after = await backend.store.message(room, refused, limit=3, window_seconds=60, timeouts=TIMEOUTS)
    assert retry_after is not None
    assert 1 <= retry_after <= 60
    seen = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
    assert seen is not None
    assert seen.message is not None
    assert seen.message.text == "message 2"  # the refused one was not kept
    other_room = new_room()
    await knock(backend, other_room, clock)
    assert await backend.store.message(other_room, refused, limit=3, window_seconds=60, timeouts=TIMEOUTS) is None
    nobody = LobbyMessage("hello", clock.now(), str(uuid.uuid4()))
    with pytest.raises(LobbyEntryNotFound):
        await backend.store.message(other_room, nobody, limit=100, window_seconds=60, timeouts=TIMEOUTS)


async def test_denials_racing_an_admit_all_decide_each_participant_exactly_once(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, address=f"198.51.100.{i}") for i in range(60)]
    async with contextlib.AsyncExitStack() as stack:
        feeds = await listening(stack, backend, room, entries)

        async def deny_one(entry: LobbyEntry) -> tuple[str, bool]:
            result = await backend.store.decide(
                room, entry.participant_id, allow=False, decided_by="b", now=clock.now(), timeouts=TIMEOUTS
            )
            assert result is not None
            return entry.participant_id, result.changed

        admit = backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS)
        first, admitted, second = await asyncio.gather(
            asyncio.gather(*(deny_one(e) for e in entries[:30])),
            admit,
            asyncio.gather(*(deny_one(e) for e in entries[30:])),
        )
        events = [await feed.next_event(5) for feed in feeds]
        assert all([await feed.next_event(0.1) is None for feed in feeds[:5]])  # one decision each, no second
    denied_ids = {pid for pid, changed in [*first, *second] if changed}
    assert admitted is not None
    assert 0 < admitted + len(denied_ids) == 60
    for entry, event in zip(entries, events, strict=True):
        assert event is not None
        assert event.entry is not None
        expected = LobbyStatus.DENIED if entry.participant_id in denied_ids else LobbyStatus.ACCEPTED
        assert event.entry.status is expected
        final = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
        assert final is not None
        assert final.status is expected
        assert ((room, entry.participant_id) in backend.ledger.bars) is (expected is LobbyStatus.DENIED)


async def test_a_deny_all_racing_an_admit_all_decides_everyone_once_the_same_way(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, address=f"198.51.100.{i}") for i in range(300)]
    async with contextlib.AsyncExitStack() as stack:
        feeds = await listening(stack, backend, room, entries)
        denied, admitted = await asyncio.gather(
            backend.store.deny_all(room, decided_by="b", now=clock.now(), timeouts=TIMEOUTS),
            backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS),
        )
        events = [await feed.next_event(5) for feed in feeds]
        assert all([await feed.next_event(0.1) is None for feed in feeds[:5]])
    assert admitted is not None
    assert sorted((denied, admitted)) == [0, 300]  # each is one step: the first takes everyone
    winner = LobbyStatus.DENIED if denied else LobbyStatus.ACCEPTED
    assert all(e is not None and e.entry is not None and e.entry.status is winner for e in events)
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0
    barred = sum(1 for e in entries if (room, e.participant_id) in backend.ledger.bars)
    assert barred == (300 if winner is LobbyStatus.DENIED else 0)
