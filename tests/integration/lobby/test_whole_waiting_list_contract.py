"""The store's whole waiting list (``whole_waiting_list``) and its version, on memory, Redis and Redis Cluster."""

from __future__ import annotations

from datetime import timedelta

from meet.domain.lobby.model import LobbyEntry, LobbyStatus
from tests.integration.lobby.conftest import Backend
from tests.integration.lobby.test_lobby_store_contract import OPEN, TIMEOUTS, knock, new_room
from tests.support.clock import FakeClock


async def test_the_whole_list_comes_in_arrival_order_with_a_version_that_moves_with_it(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    empty = await backend.store.whole_waiting_list(room, now=clock.now())
    assert empty.entries == ()
    first = await knock(backend, room, clock, "Ann")
    second = await knock(backend, room, clock, "Bob")
    both = await backend.store.whole_waiting_list(room, now=clock.now())
    assert both.entries is not None
    assert [(e.participant_id, e.username, e.status) for e in both.entries] == [
        (first.participant_id, "Ann", LobbyStatus.WAITING),
        (second.participant_id, "Bob", LobbyStatus.WAITING),
    ]
    assert both.version != empty.version

    # The caller holds this version: the entries are not read again.
    again = await backend.store.whole_waiting_list(room, now=clock.now(), known=both.version)
    assert (again.version, again.entries) == (both.version, None)
    # A stale guess is answered with the entries.
    guessed = await backend.store.whole_waiting_list(room, now=clock.now(), known=empty.version)
    assert guessed.entries == both.entries

    # A decision, a departure and an expiry each change the version.
    await backend.store.decide(
        room, first.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    decided = await backend.store.whole_waiting_list(room, now=clock.now(), known=both.version)
    assert decided.version != both.version
    assert [e.participant_id for e in decided.entries or ()] == [second.participant_id]
    third = await knock(backend, room, clock, "Cy")
    knocked = await backend.store.whole_waiting_list(room, now=clock.now(), known=decided.version)
    assert [e.participant_id for e in knocked.entries or ()] == [second.participant_id, third.participant_id]
    assert await backend.store.revoke(room, third.participant_id)
    revoked = await backend.store.whole_waiting_list(room, now=clock.now(), known=knocked.version)
    assert [e.participant_id for e in revoked.entries or ()] == [second.participant_id]
    unchanged = await backend.store.whole_waiting_list(room, now=clock.now(), known=revoked.version)
    assert (unchanged.version, unchanged.entries) == (revoked.version, None)
    later = clock.now() + timedelta(seconds=TIMEOUTS.waiting + 1)
    expired = await backend.store.whole_waiting_list(room, now=later, known=revoked.version)
    assert expired.version != revoked.version
    assert expired.entries == ()


async def test_a_new_life_of_the_room_is_a_new_version_even_with_the_same_positions(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    first = await knock(backend, room, clock, "Ann")
    before = await backend.store.whole_waiting_list(room, now=clock.now())
    await backend.store.clear(room)  # as when the room's keys expire or Redis restarts: positions start again
    again = await backend.store.knock(
        room, LobbyEntry.knock(first.participant_id, "Renamed", clock.now()), clock.now(), TIMEOUTS, OPEN
    )
    assert again.created
    assert again.entry.position == first.position
    after = await backend.store.whole_waiting_list(room, now=clock.now(), known=before.version)
    assert after.version != before.version
    assert [e.username for e in after.entries or ()] == ["Renamed"]


async def test_the_whole_list_under_a_stamp_that_is_no_longer_the_rooms_reads_nothing(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    await knock(backend, room, clock)
    read_under = await backend.stamps.current(room)
    assert (await backend.store.whole_waiting_list(room, now=clock.now(), stamp=read_under)).entries is not None
    await backend.stamps.renew(room)
    stale = await backend.store.whole_waiting_list(room, now=clock.now(), stamp=read_under)
    assert stale.stale
    assert stale.entries is None


async def test_a_list_longer_than_one_slice_is_read_whole(backend: Backend) -> None:
    clock, room = FakeClock(), new_room()
    knocked = [await knock(backend, room, clock, f"P{n}") for n in range(1_100)]
    found = await backend.store.whole_waiting_list(room, now=clock.now())
    assert [e.participant_id for e in found.entries or ()] == [e.participant_id for e in knocked]
