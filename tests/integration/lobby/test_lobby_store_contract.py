"""The lobby store's contract, proven against real Redis and the in-memory adapter alike."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis.asyncio import RedisCluster

from meet.domain.lobby.model import LobbyEntry, LobbyEventType, LobbyStatus, LobbyTimeouts
from tests.integration.lobby.conftest import Backend
from tests.support.clock import FakeClock

TIMEOUTS = LobbyTimeouts(waiting=30, accepted=600, denied=300)


def new_room() -> str:
    return str(uuid.uuid4())


async def knock(backend: Backend, room: str, clock: FakeClock, name: str = "Zoe") -> LobbyEntry:
    result = await backend.store.knock(
        room, LobbyEntry.knock(str(uuid.uuid4()), name, clock.now()), clock.now(), TIMEOUTS
    )
    assert result.created
    return result.entry


async def test_a_knock_creates_one_waiting_entry_and_later_knocks_return_it(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    entry = await knock(backend, room, clock)
    again = await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Other", clock.now()), clock.now(), TIMEOUTS
    )
    assert not again.created
    assert again.entry.username == "Zoe"
    assert again.entry.status is LobbyStatus.WAITING
    page = await backend.store.waiting(room, limit=10, after=None, now=clock.now())
    assert [e.participant_id for e in page.entries] == [entry.participant_id]
    assert page.count == 1


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
        return (await backend.store.knock(room, again, clock.now(), TIMEOUTS)).entry.status

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
    retry = await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS
    )
    assert not retry.created
    assert retry.entry.status is LobbyStatus.DENIED
    clock.advance(2)
    fresh = await backend.store.knock(
        room, LobbyEntry.knock(entry.participant_id, "Zoe", clock.now()), clock.now(), TIMEOUTS
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


async def test_subscribers_receive_knocks_decisions_departures_and_clears(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    async with backend.events.subscribe(room) as feed:
        entry = await knock(backend, room, clock)
        await backend.store.decide(
            room, entry.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        await backend.store.revoke(room, entry.participant_id)
        await backend.store.clear(room)
        received = [await feed.next_event(5) for _ in range(4)]
    assert [e.type for e in received if e] == [
        LobbyEventType.KNOCKED,
        LobbyEventType.DECIDED,
        LobbyEventType.LEFT,
        LobbyEventType.CLEARED,
    ]
    decided = received[1]
    assert decided is not None
    assert decided.entry is not None
    assert decided.entry.status is LobbyStatus.ACCEPTED
    assert decided.participant_id == entry.participant_id


async def test_a_subscription_hears_nothing_of_other_rooms(backend: Backend) -> None:
    clock = FakeClock()
    async with backend.events.subscribe(new_room()) as feed:
        await knock(backend, new_room(), clock)
        assert await feed.next_event(0.3) is None


async def test_the_rate_limiter_counts_per_bucket_and_says_how_long_to_wait(backend: Backend) -> None:
    bucket = f"test:{uuid.uuid4()}"
    results = [await backend.limiter.hit(bucket, limit=3, window_seconds=60) for _ in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] is not None
    assert 1 <= results[3] <= 60
    assert await backend.limiter.hit(f"{bucket}-other", limit=3, window_seconds=60) is None


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
    entry = await knock(backend, room, clock)
    await backend.store.decide(
        room, entry.participant_id, allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    await knock(backend, room, clock)
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
