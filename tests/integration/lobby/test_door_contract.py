"""The meeting's door beside the lobby store: part of the store's contract, proven on memory, one real Redis
and a real Redis Cluster (the door's keys share the room's hash tag), races included."""

from __future__ import annotations

import asyncio
import uuid

from meet.domain.conference.door import DoorRefusal, RoomDoor
from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyEventType, LobbyStatus, LobbyTimeouts
from meet.domain.rooms.model import SfuRoomName
from tests.integration.lobby.conftest import Backend
from tests.support.clock import FakeClock

TIMEOUTS = LobbyTimeouts(waiting=30, accepted=600, denied=300)
OPEN = KnockGate("open", rate_limit=1_000_000)


def new_room() -> SfuRoomName:
    return SfuRoomName(str(uuid.uuid4()))


def door_of(backend: Backend) -> RoomDoor:
    assert backend.door is not None
    return backend.door


async def knock(backend: Backend, room: SfuRoomName, clock: FakeClock, name: str = "Zoe") -> LobbyEntry:
    result = await backend.store.knock(
        room, LobbyEntry.knock(str(uuid.uuid4()), name, clock.now()), clock.now(), TIMEOUTS, OPEN
    )
    assert result.created, result
    return result.entry


async def statuses(backend: Backend, room: SfuRoomName, clock: FakeClock, ids: list[str]) -> list[LobbyStatus | None]:
    found = [await backend.store.touch(room, i, clock.now(), TIMEOUTS) for i in ids]
    return [entry.status if entry else None for entry in found]


async def test_a_lock_and_knocks_racing_end_in_one_consistent_state(backend: Backend) -> None:
    clock, room, door = FakeClock(), new_room(), door_of(backend)
    knocks = [LobbyEntry.knock(str(uuid.uuid4()), f"K{i}", clock.now()) for i in range(40)]

    async def one(entry: LobbyEntry) -> bool:
        result = await backend.store.knock(room, entry, clock.now(), TIMEOUTS, OPEN)
        assert result.created or result.gate.door is DoorRefusal.LOCKED, result
        return result.created

    outcomes = await asyncio.gather(
        *(one(entry) for entry in knocks[:20]),
        door.lock(room, by="admin", now=clock.now()),
        *(one(entry) for entry in knocks[20:]),
    )
    created = [entry.participant_id for entry, made in zip(knocks, outcomes[:20] + outcomes[21:], strict=True) if made]
    # Whatever the interleaving: exactly the knocks answered "waiting" wait, none answered "locked" does.
    page = await backend.store.waiting(room, limit=100, after=None, now=clock.now())
    assert sorted(e.participant_id for e in page.entries) == sorted(created)
    assert page.count == len(created)
    # Once the lock is taken, every newcomer is refused; someone already waiting is kept alive as before.
    late = await backend.store.knock(
        room, LobbyEntry.knock(str(uuid.uuid4()), "L", clock.now()), clock.now(), TIMEOUTS, OPEN
    )
    assert (late.created, late.gate.door) == (False, DoorRefusal.LOCKED)
    if created:
        kept = LobbyEntry.knock(created[0], "again", clock.now())
        again = await backend.store.knock(room, kept, clock.now(), TIMEOUTS, OPEN)
        assert (again.gate.passed, again.entry.status) == (True, LobbyStatus.WAITING)
    # An admin passes the lock; unlocking opens the door again.
    assert (await backend.store.pass_gate(room, KnockGate("adm", 1_000, admin=True), clock.now())).passed
    assert (await backend.store.pass_gate(room, KnockGate("m", 1_000), clock.now())).door is DoorRefusal.LOCKED
    assert await door.unlock(room, by="admin", now=clock.now())
    assert not await door.unlock(room, by="admin", now=clock.now())
    assert (await backend.store.pass_gate(room, KnockGate("m", 1_000), clock.now())).passed


async def test_a_send_back_and_an_admission_racing_end_in_one_consistent_state(backend: Backend) -> None:
    clock, door = FakeClock(), door_of(backend)
    for _ in range(10):
        room = new_room()
        guest = await knock(backend, room, clock)
        await backend.store.decide(
            room, guest.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
        )
        sent, decided = await asyncio.gather(
            door.send_back(room, guest.participant_id, by="a", now=clock.now(), waiting_seconds=30, room_seconds=700),
            backend.store.decide(
                room, guest.participant_id, allow=True, decided_by="b", now=clock.now(), timeouts=TIMEOUTS
            ),
        )
        assert sent.participant_id == guest.participant_id
        assert decided is not None
        [final] = await statuses(backend, room, clock, [guest.participant_id])
        # The admission came first (nothing to decide: it was admitted already), then the send-back: waiting;
        # or the send-back first, then a new admission (a change): accepted.
        assert (final, decided.changed) in {(LobbyStatus.WAITING, False), (LobbyStatus.ACCEPTED, True)}
        assert decided.entry.status is LobbyStatus.ACCEPTED


async def test_admit_all_at_capacity_admits_only_what_fits_in_arrival_order(backend: Backend) -> None:
    clock, room, door = FakeClock(), new_room(), door_of(backend)
    assert await door.joined(room, "inside")
    assert await door.joined(room, "inside")  # told twice, counted once
    waiting = [(await knock(backend, room, clock, f"W{i}")).participant_id for i in range(6)]
    # Capacity 4 with one inside: three seats, and two admit-alls racing share them.
    admitted = await asyncio.gather(
        *(
            backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4)
            for _ in range(2)
        )
    )
    assert sum(count or 0 for count in admitted) == 3
    assert await statuses(backend, room, clock, waiting) == [LobbyStatus.ACCEPTED] * 3 + [LobbyStatus.WAITING] * 3
    # The admitted hold their seats: nothing more fits, and one admission changes nothing.
    assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4) == 0
    full = await backend.store.decide(
        room, waiting[3], allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4
    )
    assert full is not None
    assert (full.full, full.changed, full.entry.status) == (True, False, LobbyStatus.WAITING)
    # A denial is never refused for capacity; someone leaving frees a seat.
    denied = await backend.store.decide(
        room, waiting[5], allow=False, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4
    )
    assert denied is not None
    assert denied.changed
    await door.left(room, "inside")
    assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4) == 1
    assert await statuses(backend, room, clock, waiting[3:5]) == [LobbyStatus.ACCEPTED, LobbyStatus.WAITING]
    # A seat held for an admission frees itself if they never join.
    clock.advance(121)
    for name in ("X", "Y", "Z", "V", "U"):
        await knock(backend, room, clock, name)
    assert await backend.store.admit_all(room, decided_by="a", now=clock.now(), timeouts=TIMEOUTS, capacity=4) == 4


async def test_ending_empties_the_lobby_tells_those_waiting_and_shuts_the_door_for_the_grace(
    backend: Backend,
) -> None:
    clock, room, door = FakeClock(), new_room(), door_of(backend)
    entry = await knock(backend, room, clock)
    await door.lock(room, by="a", now=clock.now())
    assert await door.joined(room, "inside")
    async with backend.events.of_participant(room, entry.participant_id) as feed:
        assert await door.end(room, by="a", now=clock.now(), grace_seconds=30) == 1
        told = await feed.next_event(5)
    assert told is not None
    assert told.type is LobbyEventType.ENDED
    assert await backend.store.touch(room, entry.participant_id, clock.now(), TIMEOUTS) is None
    refused = await backend.store.knock(
        room, LobbyEntry.knock(str(uuid.uuid4()), "Max", clock.now()), clock.now(), TIMEOUTS, OPEN
    )
    assert (refused.created, refused.gate.door) == (False, DoorRefusal.ENDED)
    assert (await backend.store.pass_gate(room, KnockGate("m", 1_000), clock.now())).door is DoorRefusal.ENDED
    clock.advance(31)
    # After the grace: open again, and the lock and the count ended with the meeting.
    assert (await backend.store.pass_gate(room, KnockGate("m", 1_000, capacity=1), clock.now())).passed
    # An admin's entry during a grace period opens the meeting again for everyone.
    await door.end(room, by="a", now=clock.now(), grace_seconds=30)
    assert (await backend.store.pass_gate(room, KnockGate("adm", 1_000, admin=True, by="a"), clock.now())).passed
    assert (await backend.store.pass_gate(room, KnockGate("m", 1_000), clock.now())).passed
    await door.end(room, by="a", now=clock.now(), grace_seconds=30)
    assert await door.reopen(room, by="a", now=clock.now())
    assert not await door.reopen(room, by="a", now=clock.now())


async def test_the_joins_check_reads_the_door_in_its_own_step(backend: Backend) -> None:
    assert backend.entry_check is not None
    clock, room, door = FakeClock(), new_room(), door_of(backend)
    stamp = await backend.stamps.current(room)
    await door.lock(room, by="a", now=clock.now())
    await door.joined(room, "inside")
    await door.send_back(room, "member", by="a", now=clock.now(), waiting_seconds=30, room_seconds=700)
    reading = await backend.entry_check.read(room, stamp, ("member", "inside", "other"))
    assert reading.door.locked
    assert reading.door.taken == 1
    assert reading.door.suspended == {"member"}
    assert reading.door.inside == {"inside"}
    anonymous = await backend.entry_check.read(room, stamp, ())  # nobody to check: the door all the same
    assert (anonymous.door.locked, anonymous.door.taken) == (True, 1)
    await door.finished(room)
    after = await backend.entry_check.read(room, stamp, ("member",))
    assert (after.door.locked, after.door.taken, after.door.suspended) == (False, 0, frozenset())


async def test_a_member_sent_back_waits_until_the_knock_made_for_them_is_admitted(backend: Backend) -> None:
    clock, room, door = FakeClock(), new_room(), door_of(backend)
    assert await door.joined(room, "member")
    sent = await door.send_back(room, "member", by="a", now=clock.now(), waiting_seconds=30, room_seconds=700)
    assert sent.participant_id is None  # no entry: a member entered directly
    assert not await door.joined(room, "member")  # reconnecting with the token they hold: kept out
    member_gate = KnockGate("m", 1_000, identities=("member",), capacity=10)
    assert (await backend.store.pass_gate(room, member_gate, clock.now())).door is DoorRefusal.SENT_BACK
    waiting = LobbyEntry.knock(str(uuid.uuid4()), "Member", clock.now())
    result = await backend.store.knock(
        room, waiting, clock.now(), TIMEOUTS, KnockGate("m", 1_000, identities=("member",), sent_back="member")
    )
    assert result.created
    assert (await backend.store.pass_gate(room, member_gate, clock.now())).door is DoorRefusal.SENT_BACK
    await backend.store.decide(
        room, waiting.participant_id, allow=True, decided_by="a", now=clock.now(), timeouts=TIMEOUTS
    )
    assert (await backend.store.pass_gate(room, member_gate, clock.now())).passed
