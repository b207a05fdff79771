"""Each lobby decision leaves its record in the same atomic step (memory, one Redis, a Redis Cluster); a
mover stores it in the audit log and only then acknowledges it, and records another mover took and
never acknowledged (it died) are taken and stored by the next one. Polls and refused second decisions
leave nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyTimeouts
from meet.domain.lobby.records import MoveLobbyRecords
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.events import Action, ActorKind
from tests.doubles.rooms import MemoryDatabase, MemoryUnitOfWork
from tests.integration.lobby.conftest import Backend

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TIMEOUTS = LobbyTimeouts(waiting=30, accepted=600, denied=300)


def gate(who: str) -> KnockGate:
    return KnockGate(rate_bucket=who, rate_limit=100)


async def knock(backend: Backend, room: SfuRoomName, who: str, at: datetime = NOW) -> None:
    result = await backend.store.knock(room, LobbyEntry.knock(who, who.title(), at), at, TIMEOUTS, gate(who))
    assert result.created


async def test_decisions_are_recorded_once_and_moved_into_the_audit_log(backend: Backend) -> None:
    assert backend.records is not None
    room_id = uuid.uuid4()
    room = SfuRoomName(str(room_id))
    await knock(backend, room, "ann")
    await knock(backend, room, "bob")
    await knock(backend, room, "cat")
    await knock(backend, room, "dan")
    await backend.store.touch(room, "ann", NOW, TIMEOUTS)  # a poll: not logged
    await backend.store.knock(room, LobbyEntry.knock("ann", "Ann", NOW), NOW, TIMEOUTS, gate("ann"))  # again: no
    first = await backend.store.decide(room, "ann", allow=True, decided_by="owner", now=NOW, timeouts=TIMEOUTS)
    second = await backend.store.decide(room, "ann", allow=False, decided_by="admin", now=NOW, timeouts=TIMEOUTS)
    assert first is not None
    assert first.changed
    assert second is not None
    assert not second.changed  # refused: not logged
    await backend.store.decide(room, "bob", allow=False, decided_by="owner", now=NOW, timeouts=TIMEOUTS)
    assert await backend.store.admit_all(room, decided_by="owner", now=NOW, timeouts=TIMEOUTS) == 2

    db = MemoryDatabase()
    moved = await MoveLobbyRecords(backend.records, MemoryUnitOfWork(db)).execute()
    assert moved == 7
    assert [event.action for event in db.events] == [
        Action.LOBBY_KNOCKED,
        Action.LOBBY_KNOCKED,
        Action.LOBBY_KNOCKED,
        Action.LOBBY_KNOCKED,
        Action.LOBBY_ADMITTED,
        Action.LOBBY_DENIED,
        Action.LOBBY_ADMITTED,
    ]
    assert all(event.room_id == room_id for event in db.events)
    assert all(event.at == NOW for event in db.events)
    admitted = db.events[4]
    assert admitted.subject == {"kind": "participant", "id": "ann", "name": "Ann"}
    assert (admitted.actor.kind, admitted.actor.id) == (ActorKind.USER, "owner")
    assert db.events[0].actor.id == "ann"
    assert db.events[6].details == {"count": 2, "all": True}
    assert await MoveLobbyRecords(backend.records, MemoryUnitOfWork(db)).execute() == 0  # acknowledged: gone
    if backend.redis is not None:
        assert await backend.redis.exists(f"meet:lobby:{{{room}}}:audit") == 0  # emptied: deleted


async def test_waiting_entries_that_expire_or_are_cleared_away_are_recorded_as_left(backend: Backend) -> None:
    assert backend.records is not None
    room = SfuRoomName(str(uuid.uuid4()))
    await knock(backend, room, "eve")
    later = NOW + timedelta(seconds=TIMEOUTS.waiting + 1)
    await knock(backend, room, "fay", at=later)  # purges eve's expired entry in the same step
    await knock(backend, room, "gus", at=later)
    await backend.store.clear(room)
    db = MemoryDatabase()
    await MoveLobbyRecords(backend.records, MemoryUnitOfWork(db)).execute()
    left = [event for event in db.events if event.action is Action.LOBBY_LEFT]
    assert [(e.subject.get("id"), e.details.get("reason"), e.details.get("count")) for e in left] == [
        ("eve", "expired", None),
        (None, "room_finished", 2),
    ]
    assert left[0].actor.kind is ActorKind.SYSTEM
    assert left[0].at == later


async def test_records_a_dead_mover_took_are_stored_by_another(backend: Backend) -> None:
    assert backend.records is not None
    room = SfuRoomName(str(uuid.uuid4()))
    await knock(backend, room, "hal")
    taken = await backend.records.claim(10)  # this mover dies here: never stores, never acknowledges
    assert [record.participant_id for record in taken] == ["hal"]
    db = MemoryDatabase()
    assert await MoveLobbyRecords(backend.consumer(), MemoryUnitOfWork(db)).execute() == 1
    assert [(event.action, event.subject["id"]) for event in db.events] == [(Action.LOBBY_KNOCKED, "hal")]
    # The same record moved twice has the same event id: the audit log stores it once (tested on SQL).
    assert db.events[0].id == taken[0].event().id  # type: ignore[union-attr]
