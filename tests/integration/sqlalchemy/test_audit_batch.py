"""A batch of lobby records moved into the audit log (SQLite and a real PostgreSQL): the same chains and
the same webhook outbox as appending the records one at a time, nothing stored twice when part of a batch
is moved again, and a constant number of statements per room whatever the batch's size."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.memory.lobby import MemoryLobbyRecords
from meet.adapters.sqlalchemy.audit import SqlaAuditChains
from meet.adapters.sqlalchemy.database import create_session_factory
from meet.adapters.sqlalchemy.event_tables import (
    audit_chain,
    audit_entry,
    webhook_endpoint,
    webhook_outbox,
    webhook_subscription,
)
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.audit.model import GENESIS, AuditEntry
from meet.domain.audit.use_cases import VerifyAudit, VerifyAuditRequest
from meet.domain.lobby.records import MoveLobbyRecords
from meet.domain.shared.events import Action, Actor, RoomEvent

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ACTIONS = (Action.LOBBY_KNOCKED, Action.LOBBY_ADMITTED, Action.LOBBY_DENIED, Action.LOBBY_LEFT)


def records(rooms: Sequence[uuid.UUID], count: int) -> MemoryLobbyRecords:
    """``count`` records taking turns between the rooms, as the store leaves them (ids by arrival)."""
    stored = MemoryLobbyRecords()
    for n in range(count):
        stored.add(
            str(rooms[n % len(rooms)]),
            ACTIONS[n % len(ACTIONS)],
            START + timedelta(milliseconds=n),
            participant_id=f"p{n}",
            name=f"Guest {n}",
            by="owner" if n % 2 else None,
        )
    return stored


async def events_of(stored: MemoryLobbyRecords) -> list[RoomEvent]:
    return [event for record in await stored.claim(10_000) if (event := record.event()) is not None]


async def subscribe(engine: AsyncEngine) -> None:
    """An enabled endpoint told of knocks and admissions, and a disabled one told of everything."""
    enabled, disabled = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        for endpoint_id, on in ((enabled, True), (disabled, False)):
            await connection.execute(
                insert(webhook_endpoint).values(
                    id=endpoint_id, url="https://hooks.example/in", secret="x", enabled=on, created_at=START
                )
            )
        subscriptions = [(enabled, Action.LOBBY_KNOCKED), (enabled, Action.LOBBY_ADMITTED)]
        subscriptions += [(disabled, action) for action in (*ACTIONS, Action.ROOM_STARTED)]
        await connection.execute(
            insert(webhook_subscription),
            [{"endpoint_id": endpoint_id, "event_type": action.value} for endpoint_id, action in subscriptions],
        )


async def stored(engine: AsyncEngine) -> tuple[list[Any], list[Any], list[Any]]:
    """Every entry, chain head and queued webhook, in a fixed order."""
    async with engine.connect() as connection:
        in_chain_order = select(audit_entry).order_by(audit_entry.c.room_id, audit_entry.c.seq)
        entries = (await connection.execute(in_chain_order)).all()
        heads = (await connection.execute(select(audit_chain).order_by(audit_chain.c.room_id))).all()
        outbox = (
            await connection.execute(
                select(webhook_outbox).order_by(webhook_outbox.c.event_id, webhook_outbox.c.endpoint_id)
            )
        ).all()
    return list(entries), list(heads), list(outbox)


async def forget_everything_stored(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in (webhook_outbox, audit_entry, audit_chain):
            await connection.execute(delete(table))


def chained(events: Sequence[RoomEvent]) -> list[tuple[uuid.UUID, int, str, str]]:
    """Each room's chain as the domain defines it, independently of the database."""
    heads: dict[uuid.UUID, tuple[int, str]] = {}
    links = []
    for room_event in events:
        seq, last_hash = heads.get(room_event.room_id, (0, GENESIS))
        entry = AuditEntry.chained(room_event, seq + 1, last_hash)
        heads[room_event.room_id] = (entry.seq, entry.hash)
        links.append((room_event.id, entry.seq, entry.prev_hash, entry.hash))
    return sorted(links)


async def assert_verified(engine: AsyncEngine, rooms: int) -> None:
    verdict = await VerifyAudit(SqlaAuditChains(engine)).execute(VerifyAuditRequest())
    assert verdict.broken is None
    assert verdict.rooms == rooms


async def test_a_batch_stores_and_queues_exactly_what_single_appends_do(engine: AsyncEngine) -> None:
    await subscribe(engine)
    uow, rooms = SqlaUnitOfWork(create_session_factory(engine)), [uuid.uuid4(), uuid.uuid4()]
    lobby_events = await events_of(records(rooms, 30))
    started = RoomEvent(rooms[0], Action.ROOM_STARTED, START, Actor.sfu())  # told to webhooks, never chained

    for one in [*lobby_events, started]:
        async with uow.begin() as tx:
            await tx.audit.append(one)
    one_by_one = await stored(engine)
    await forget_everything_stored(engine)

    moved = await MoveLobbyRecords(records(rooms, 30), uow).execute()
    async with uow.begin() as tx:
        await tx.audit.append_many([started])
    batched = await stored(engine)

    assert moved == 30
    assert batched == one_by_one
    entries, heads, outbox = batched
    assert sorted((row.id, row.seq, row.prev_hash, row.hash) for row in entries) == chained(lobby_events)
    assert sorted((row.room_id, row.last_seq) for row in heads) == sorted((room, 15) for room in rooms)
    told = [e for e in lobby_events if e.action in (Action.LOBBY_KNOCKED, Action.LOBBY_ADMITTED)]
    assert sorted(row.event_id for row in outbox) == sorted(e.id for e in told)  # only the enabled endpoint
    await assert_verified(engine, rooms=2)


async def test_moving_part_of_a_batch_again_stores_and_queues_nothing_twice(engine: AsyncEngine) -> None:
    await subscribe(engine)
    uow, rooms = SqlaUnitOfWork(create_session_factory(engine)), [uuid.uuid4(), uuid.uuid4()]
    lobby_events = await events_of(records(rooms, 20))

    async with uow.begin() as tx:  # a mover stored the first 8 and died before acknowledging them
        await tx.audit.append_many(lobby_events[:8])
    async with uow.begin() as tx:  # the next mover claims them again, with the 12 that followed
        await tx.audit.append_many(lobby_events[5:] + lobby_events[14:16])  # and two twice in one batch
    entries, heads, outbox = await stored(engine)

    assert sorted((row.id, row.seq, row.prev_hash, row.hash) for row in entries) == chained(lobby_events)
    assert len({(row.event_id, row.endpoint_id) for row in outbox}) == len(outbox) == 10  # 5 knocks, 5 admits
    await assert_verified(engine, rooms=2)

    async with uow.begin() as tx:  # moved a third time, whole: nothing changes
        await tx.audit.append_many(lobby_events)
    assert await stored(engine) == (entries, heads, outbox)
    await assert_verified(engine, rooms=2)


@contextmanager
def counted(engine: AsyncEngine) -> Iterator[list[str]]:
    issued: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        issued.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield issued
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_batch_costs_the_same_statements_whatever_its_size(engine: AsyncEngine) -> None:
    uow, room = SqlaUnitOfWork(create_session_factory(engine)), uuid.uuid4()
    lobby_events = await events_of(records([room], 402))

    async def statements(events: Sequence[RoomEvent]) -> list[str]:
        async with uow.begin() as tx:
            with counted(engine) as issued:
                await tx.audit.append_many(events)
        return issued

    # A room's chain: lock the head, insert the entries, move the head; the batch's webhooks: who is subscribed.
    assert len(await statements(lobby_events[:1])) == len(await statements(lobby_events[1:201])) == 4
    await subscribe(engine)  # and, now that somebody is, queue them for those endpoints
    assert len(await statements(lobby_events[201:202])) == len(await statements(lobby_events[202:])) == 5
    await assert_verified(engine, rooms=1)
