"""The lobby store's contract, proven against real Redis and the in-memory adapter alike."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import timedelta

import pytest
from redis.asyncio import RedisCluster

from meet.adapters.redis.lobby.keys import events_channel
from meet.domain.conference.bars import BarReason
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyEvent, LobbyEventType, LobbyStatus, LobbyTimeouts
from meet.domain.lobby.ports import RoomChanges
from meet.domain.rooms.model import SfuRoomName
from tests.integration.lobby.conftest import Backend
from tests.support.clock import FakeClock

TIMEOUTS = LobbyTimeouts(waiting=30, accepted=600, denied=300)
OPEN = KnockGate("open", rate_limit=1_000_000)


def returning(participant_id: str, limit: int = 1_000_000) -> KnockGate:
    """The gate of a poll: counted per participant, checked against the room's bars."""
    return KnockGate(f"p:{participant_id}", rate_limit=limit, identities=(participant_id,))


def new_room() -> SfuRoomName:
    return SfuRoomName(str(uuid.uuid4()))


async def knock(backend: Backend, room: str, clock: FakeClock, name: str = "Zoe") -> LobbyEntry:
    result = await backend.store.knock(
        SfuRoomName(room),
        LobbyEntry.knock(SfuRoomName(str(uuid.uuid4())), name, clock.now()),
        clock.now(),
        TIMEOUTS,
        OPEN,
    )
    assert result.created
    return result.entry


async def test_a_knock_creates_one_waiting_entry_and_later_knocks_return_it(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    again = await backend.store.knock(
        room,
        LobbyEntry.knock(entry.participant_id, "Other", clock.now()),
        clock.now(),
        TIMEOUTS,
        returning(entry.participant_id),
    )
    assert not again.created
    assert again.entry.username == "Zoe"
    assert again.entry.status is LobbyStatus.WAITING
    page = await backend.store.waiting(room, limit=10, after=None, now=clock.now())
    assert [e.participant_id for e in page.entries] == [entry.participant_id]
    assert page.count == 1


async def test_a_name_in_any_script_comes_back_as_it_was_given(backend: Backend) -> None:
    clock, room, name = FakeClock(), new_room(), 'Zoë Šťastná 北京 🎉 "quoted" \\'
    entry = await knock(backend, room, clock, name)
    assert entry.username == name
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        decided = await backend.store.decide(
            room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        heard = await feed.next_event(5)
    assert decided is not None
    assert decided.entry.username == name
    assert heard is not None
    assert heard.entry is not None
    assert heard.entry.username == name


async def test_the_waiting_list_is_in_arrival_order_and_pages_with_a_cursor(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    ids = [(await knock(backend, room, clock, f"p{i}")).participant_id for i in range(7)]
    first = await backend.store.waiting(room, limit=3, after=None, now=clock.now())
    second = await backend.store.waiting(room, limit=3, after=first.next_cursor, now=clock.now())
    third = await backend.store.waiting(room, limit=3, after=second.next_cursor, now=clock.now())
    listed = [e.participant_id for page in (first, second, third) for e in page.entries]
    assert listed == ids
    assert first.count == second.count == third.count == 7
    assert third.next_cursor is None


async def test_the_first_decision_is_recorded_and_repeating_it_is_harmless(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    first = await backend.store.decide(
        room, entry.participant_id, allow=True, decided_by="admin-a", now=clock.now(), timeouts=TIMEOUTS
    )
    assert first is not None
    assert first.changed
    assert first.entry.status is LobbyStatus.ACCEPTED
    assert first.entry.decided_by == "admin-a"
    repeat = await backend.store.decide(
        room, entry.participant_id, allow=True, decided_by="admin-a", now=clock.now(), timeouts=TIMEOUTS
    )
    late_denial = await backend.store.decide(
        room, entry.participant_id, allow=False, decided_by="admin-b", now=clock.now(), timeouts=TIMEOUTS
    )
    assert repeat is not None
    assert late_denial is not None
    assert not repeat.changed
    assert not late_denial.changed
    assert late_denial.entry.status is LobbyStatus.ACCEPTED
    assert late_denial.entry.decided_by == "admin-a"
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0


async def test_deciding_on_nobody_answers_none(backend: Backend) -> None:
    clock = FakeClock()
    result = await backend.store.decide(
        new_room(), str(uuid.uuid4()), allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    assert result is None


async def test_simultaneous_decisions_and_knocks_end_in_exactly_one_decision(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)

    async def decide(i: int) -> tuple[bool, LobbyStatus]:
        result = await backend.store.decide(
            room, entry.participant_id, allow=i % 2 == 0, decided_by=f"admin-{i}", now=clock.now(), timeouts=TIMEOUTS
        )
        assert result is not None
        return result.changed, result.entry.status

    async def knock_again() -> LobbyStatus:
        again = LobbyEntry.knock(entry.participant_id, "Zoe", clock.now())
        return (await backend.store.knock(room, again, clock.now(), TIMEOUTS, OPEN)).entry.status

    outcomes = await asyncio.gather(*(decide(i) for i in range(40)), *(knock_again() for _ in range(40)))
    decisions = [o for o in outcomes if isinstance(o, tuple)]
    winners = [status for changed, status in decisions if changed]
    assert len(winners) == 1
    final = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
    assert final is not None
    assert final.status is winners[0]
    assert all(status is winners[0] for _, status in decisions)
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0


async def test_a_waiting_entry_expires_without_activity_and_lives_while_touched(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    kept, dropped = await knock(backend, room, clock, "kept"), await knock(backend, room, clock, "dropped")
    for _ in range(4):
        clock.advance(20)
        assert await backend.store.touch(room, kept.participant_id, clock.now(), TIMEOUTS) is not None
    assert await backend.store.touch(room, dropped.participant_id, clock.now(), TIMEOUTS) is None
    page = await backend.store.waiting(room, limit=10, after=None, now=clock.now())
    assert [e.participant_id for e in page.entries] == [kept.participant_id]
    assert page.count == 1


async def test_a_decision_racing_an_expiry_finds_nobody(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    clock.advance(TIMEOUTS.waiting + 1)
    result = await backend.store.decide(
        room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    assert result is None


async def test_a_denial_blocks_re_knocking_until_it_expires(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    await backend.store.decide(
        room, entry.participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    clock.advance(TIMEOUTS.denied - 1)
    gate = returning(entry.participant_id)
    retry = await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS, gate
    )
    assert not retry.created
    assert retry.gate.barred
    assert backend.ledger.bars == {(room, entry.participant_id): clock.now() + timedelta(seconds=1)}
    clock.advance(2)
    fresh = await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS, gate
    )
    assert fresh.created
    assert fresh.entry.status is LobbyStatus.WAITING


async def test_an_accepted_entry_lasts_until_its_own_expiry(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    await backend.store.decide(
        room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    clock.advance(TIMEOUTS.accepted - 1)
    still = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
    assert still is not None
    assert still.status is LobbyStatus.ACCEPTED
    clock.advance(2)
    assert await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS) is None


async def test_admit_all_accepts_every_waiting_entry(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, f"p{i}") for i in range(5)]
    await backend.store.decide(
        room, entries[0].participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS) == 4
    states = [await backend.store.touch(room, e.participant_id, clock.now(), TIMEOUTS) for e in entries]
    assert [s.status for s in states if s] == [LobbyStatus.DENIED] + [LobbyStatus.ACCEPTED] * 4


async def test_revoke_and_clear_drop_entries_and_a_clear_racing_decisions_is_well_defined(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, f"p{i}") for i in range(10)]
    assert await backend.store.revoke(room, entries[0].participant_id)
    assert not await backend.store.revoke(room, entries[0].participant_id)

    async def decide(entry: LobbyEntry) -> object:
        return await backend.store.decide(
            room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )

    await asyncio.gather(
        *(decide(e) for e in entries[1:5]), backend.store.clear(room), *(decide(e) for e in entries[5:])
    )
    # Whatever interleaving happened, a cleared room keeps nothing decided before the clear, and no stale waiter.
    after_clear = await backend.store.waiting(room, limit=20, after=None, now=clock.now())
    assert after_clear.count == 0
    await backend.store.clear(room)
    for entry in entries:
        assert await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS) is None


async def test_an_admins_feed_hears_every_change_coalesced_per_participant(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    async with backend.events.of_room(room) as feed:
        entry = await knock(backend, room, clock)
        other = await knock(backend, room, clock, "Max")
        await backend.store.decide(
            room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        received = await changes(feed, LobbyEventType.DECIDED)
        assert [(e.type, e.participant_id) for e in received] == [
            (LobbyEventType.KNOCKED, other.participant_id),
            (LobbyEventType.DECIDED, entry.participant_id),  # the latest change of each participant
        ]
        decided = received[1].entry
        assert decided is not None
        assert decided.status is LobbyStatus.ACCEPTED
        await backend.store.revoke(room, entry.participant_id)
        await backend.store.clear(room)
        cleared = await changes(feed, LobbyEventType.CLEARED)
        assert [e.type for e in cleared] == [LobbyEventType.CLEARED]


async def changes(feed: RoomChanges, last: LobbyEventType) -> list[LobbyEvent]:
    """The latest change per participant once a change of type ``last`` arrived (Redis delivers them
    asynchronously, so they may come in several batches); each batch names a participant at most once."""
    latest: dict[str | None, LobbyEvent] = {}
    async with asyncio.timeout(5):
        while not any(e.type is last for e in latest.values()):
            batch = await feed.next_changes(5)
            assert len({e.participant_id for e in batch}) == len(batch)
            for event in batch:
                if event.type is LobbyEventType.CLEARED:
                    latest.clear()
                latest.pop(event.participant_id, None)
                latest[event.participant_id] = event
    return list(latest.values())


async def test_a_participants_feed_hears_only_about_that_participant(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry, other = await knock(backend, room, clock), await knock(backend, room, clock, "Max")
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        await knock(backend, room, clock, "Ann")
        await backend.store.decide(
            room, other.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        await backend.store.decide(
            room, entry.participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        decided = await feed.next_event(5)
        assert decided is not None
        assert (decided.type, decided.participant_id) == (LobbyEventType.DECIDED, entry.participant_id)
        assert await feed.next_event(0.2) is None
        await backend.store.clear(room)
        cleared = await feed.next_event(5)
        assert cleared is not None
        assert cleared.type is LobbyEventType.CLEARED


async def test_admit_all_reaches_every_waiting_participants_feed_in_one_call(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entries = [await knock(backend, room, clock, f"p{i}") for i in range(1_200)]  # more than one message's batch
    async with contextlib.AsyncExitStack() as stack:
        feeds = [
            await stack.enter_async_context(backend.events.of_participant(room, e.participant_id)) for e in entries
        ]
        assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS) == 1_200
        heard = [await feed.next_event(5) for feed in feeds]
    assert all(e is not None and e.entry is not None and e.entry.status is LobbyStatus.ACCEPTED for e in heard)
    assert [e.participant_id for e in heard if e] == [e.participant_id for e in entries]


async def test_a_participants_feed_tells_when_decisions_about_others_in_its_room_arrive(backend: Backend) -> None:
    clock, room, elsewhere = FakeClock(), new_room(), new_room()
    waiting, decided = await knock(backend, room, clock), await knock(backend, room, clock)
    apart = await knock(backend, elsewhere, clock)
    async with (
        backend.events.of_participant(room, waiting.participant_id) as feed,
        backend.events.of_participant(room, decided.participant_id) as decided_feed,
        backend.events.of_participant(elsewhere, apart.participant_id) as other_room,
    ):
        assert not feed.decisions_arriving()
        await backend.store.decide(
            room, decided.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        assert await decided_feed.next_event(5) is not None  # the decision reached this process
        assert feed.decisions_arriving()
        assert await feed.next_event(0.05) is None  # nothing about this participant itself
        assert not other_room.decisions_arriving()
        backend.events.deciding(elsewhere)  # a mass decision begun in this process: before any comes back
        assert other_room.decisions_arriving()


@pytest.mark.parametrize("backend", ["redis", "redis-cluster"], indirect=True)  # a channel others can publish on
async def test_a_malformed_message_on_the_rooms_channel_is_ignored_and_the_feed_goes_on(backend: Backend) -> None:
    assert backend.redis is not None
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        publish = backend.redis.spublish if isinstance(backend.redis, RedisCluster) else backend.redis.publish
        for garbage in (b"{nope", b"[1, 2]", b"42", b'{"type": "decided"}', b'{"type": "nope", "participant_id": "x"}'):
            await publish(events_channel(room), garbage)
        await backend.store.decide(
            room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        decided = await feed.next_event(5)
    assert decided is not None
    assert decided.entry is not None
    assert decided.entry.status is LobbyStatus.ACCEPTED


async def test_a_feed_hears_nothing_of_other_rooms(backend: Backend) -> None:
    clock = FakeClock()
    async with backend.events.of_room(new_room()) as feed:
        await knock(backend, new_room(), clock)
        assert await feed.next_changes(0.3) == ()


async def test_refresh_keeps_waiting_entries_alive_and_announces_vanished_ones(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    kept, decided = await knock(backend, room, clock), await knock(backend, room, clock)
    await backend.store.decide(
        room, decided.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    vanished = str(uuid.uuid4())
    async with backend.events.of_participant(room, vanished) as feed:
        clock.advance(TIMEOUTS.waiting - 1)
        await backend.store.refresh(
            room, [kept.participant_id, decided.participant_id, vanished], clock.now(), TIMEOUTS
        )
        left = await feed.next_event(5)
    assert left is not None
    assert left.type is LobbyEventType.LEFT
    clock.advance(TIMEOUTS.waiting - 1)
    still = await backend.store.touch(room, kept.participant_id, clock.now(), TIMEOUTS)
    assert still is not None
    assert still.is_waiting


async def test_the_knocks_rate_limit_is_counted_in_the_knock_and_refuses_without_a_change(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    gate = returning(entry.participant_id, limit=3)
    again = LobbyEntry.knock(entry.participant_id, "Zoe", clock.now())
    results = [await backend.store.knock(room, again, clock.now(), TIMEOUTS, gate) for _ in range(4)]
    assert [r.gate.retry_after for r in results[:3]] == [None, None, None]
    assert results[3].gate.retry_after is not None
    assert 1 <= results[3].gate.retry_after <= 60
    assert not results[3].gate.barred
    # Another room's count is its own; a room-wide door check counts the same way.
    assert (await backend.store.pass_gate(new_room(), gate, clock.now())).passed
    assert (await backend.store.pass_gate(room, gate, clock.now())).retry_after is not None


async def test_an_admit_all_under_a_stamp_that_is_no_longer_the_rooms_admits_nobody(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    read_under = await backend.stamps.current(room)
    entry = await knock(backend, room, clock)
    await backend.stamps.renew(room)  # the room (or a role in it) changed after a process took its copy
    admitted = await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, stamp=read_under)
    assert admitted is None
    still = await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS)
    assert still is not None
    assert still.status is LobbyStatus.WAITING
    current = await backend.stamps.current(room)
    assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, stamp=current) == 1


async def test_a_knock_under_a_stamp_that_is_no_longer_the_rooms_is_refused_without_a_change(
    backend: Backend,
) -> None:
    clock, room = FakeClock(), new_room()
    read_under = await backend.stamps.current(room)
    assert read_under is not None
    assert await backend.stamps.current(room) == read_under  # one stamp, until the room changes
    await backend.stamps.renew(room)  # the room changed after a process took its copy

    def gate(stamp: str) -> KnockGate:
        return KnockGate("once", rate_limit=1, room_stamp=stamp)

    offered = LobbyEntry.knock(str(uuid.uuid4()), "Zoe", clock.now())
    stale = await backend.store.knock(room, offered, clock.now(), TIMEOUTS, gate(read_under))
    assert (stale.gate.stale, stale.created, stale.gate.passed) == (True, False, False)
    assert (await backend.store.pass_gate(room, gate(read_under), clock.now())).stale
    assert (await backend.store.waiting(room, limit=10, after=None, now=clock.now())).count == 0
    current = await backend.stamps.current(room)
    assert current is not None
    assert current != read_under
    # Refused attempts were not counted: the limit of one knock still lets this one in.
    fresh = await backend.store.knock(room, offered, clock.now(), TIMEOUTS, gate(current))
    assert fresh.created
    if backend.redis is not None:
        await backend.redis.flushdb()  # a restarted Redis lost every stamp: no copy may pass for current
        again = LobbyEntry.knock(str(uuid.uuid4()), "Max", clock.now())
        assert (await backend.store.knock(room, again, clock.now(), TIMEOUTS, gate(current))).gate.stale
        assert await backend.stamps.current(room) != current


async def test_a_bar_in_the_ledger_holds_whatever_the_cache_lost(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    await backend.store.decide(
        room, entry.participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    removed = str(uuid.uuid4())
    await backend.ledger.bar(room, removed, clock.now() + timedelta(seconds=600), BarReason.REMOVED)  # made elsewhere
    if backend.redis is not None:
        await backend.redis.flushdb()  # what a Redis restart without persistence leaves
    store = backend.forget_cache()
    for identity in (entry.participant_id, removed):
        offered = LobbyEntry.knock(identity, "Zoe", clock.now())
        result = await store.knock(room, offered, clock.now(), TIMEOUTS, returning(identity))
        assert result.gate.barred, identity
        assert not result.created
    assert (await store.pass_gate(room, returning(removed), clock.now())).barred
    clock.advance(601)
    assert (await store.pass_gate(room, returning(removed), clock.now())).passed


async def test_seen_events_answer_first_time_once_until_forgotten(backend: Backend) -> None:
    event_id = f"EV_{uuid.uuid4()}"
    assert await backend.seen.first_time(event_id)
    assert not await backend.seen.first_time(event_id)
    await backend.seen.forget(event_id)
    assert await backend.seen.first_time(event_id)


@pytest.mark.parametrize("backend", ["redis", "redis-cluster"], indirect=True)
async def test_every_key_of_a_room_shares_one_cluster_hash_tag(backend: Backend) -> None:
    assert backend.redis is not None
    clock, room = FakeClock(), new_room()
    await backend.stamps.current(room)
    entry = await knock(backend, room, clock)
    await backend.store.decide(
        room, entry.participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    await knock(backend, room, clock)
    await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS, returning("x")
    )
    # Test-side inspection only (on a cluster, of every master).
    found = await (
        backend.redis.keys("meet:lobby:*", target_nodes=RedisCluster.PRIMARIES)
        if isinstance(backend.redis, RedisCluster)
        else backend.redis.keys("meet:lobby:*")
    )
    keys = [key.decode() if isinstance(key, bytes) else key for key in found]
    assert keys
    assert all(f"{{{room}}}" in key for key in keys)
    ttls = [await backend.redis.pttl(key) for key in keys]
    assert all(ttl > 0 for ttl in ttls)  # an abandoned room disappears by itself


async def test_a_mark_taken_before_a_store_step_tells_whether_anything_of_the_room_was_heard_since(
    backend: Backend,
) -> None:
    clock, room = FakeClock(), new_room()
    assert backend.events.heard(room) is None  # nobody here listens to the room: no mark can vouch
    waiting, other = await knock(backend, room, clock), await knock(backend, room, clock)
    async with backend.events.of_participant(room, other.participant_id) as other_feed:
        mark = backend.events.heard(room)
        assert mark is not None
        await backend.store.touch(room, waiting.participant_id, clock.now(), TIMEOUTS)  # a read: nothing published
        async with backend.events.of_participant(room, waiting.participant_id) as feed:
            assert feed.heard_nothing_since(mark)
            assert not feed.heard_nothing_since(None)
            await backend.store.decide(
                room, other.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
            )
            assert await other_feed.next_event(5) is not None  # the decision reached this process
            assert not feed.heard_nothing_since(mark)  # something of the room came: read the state again
            later = backend.events.heard(room)
            assert feed.heard_nothing_since(later)
    async with backend.events.of_participant(room, waiting.participant_id) as feed:
        # Nobody listened in between: what was published then never reached this process.
        assert not feed.heard_nothing_since(later)


@pytest.mark.parametrize("backend", ["redis", "redis-cluster"], indirect=True)  # a connection that can be lost
async def test_a_mark_taken_before_the_event_channel_was_lost_no_longer_holds(backend: Backend) -> None:
    assert backend.redis is not None
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        mark = backend.events.heard(room)
        assert feed.heard_nothing_since(mark)
        if isinstance(backend.redis, RedisCluster):
            await backend.redis.execute_command("CLIENT KILL", "TYPE", "pubsub", target_nodes=RedisCluster.ALL_NODES)
        else:
            await backend.redis.client_kill_filter(_type="pubsub")
        # Whatever was published while the connection was down is gone: the feed is told so, either by
        # a resync once the room is heard again or by its end.
        try:
            told = await feed.next_event(10)
        except LobbyUnavailable:
            told = LobbyEvent(LobbyEventType.RESYNC)
        assert told is not None
        assert told.type is LobbyEventType.RESYNC
        assert not feed.heard_nothing_since(mark)
