"""The audit chain in the database (SQLite and a real PostgreSQL): appends in the change's transaction,
concurrent appends to one room never fork the chain, retention trims while the chain stays verifiable."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.sqlalchemy.audit import SqlaAuditChains
from meet.adapters.sqlalchemy.database import create_session_factory
from meet.adapters.sqlalchemy.event_tables import audit_entry
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.audit.use_cases import AuditRetention, TrimAudit, VerifyAudit, VerifyAuditRequest
from meet.domain.shared.events import Action, Actor, RoomEvent, participant
from tests.support.clock import FakeClock

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def knock(room_id: uuid.UUID, at: datetime, who: str = "p") -> RoomEvent:
    return RoomEvent(room_id, Action.LOBBY_KNOCKED, at, Actor.user(None), participant(who, who.title()))


async def test_an_append_commits_or_rolls_back_with_its_transaction(engine: AsyncEngine) -> None:
    uow, chains, room = SqlaUnitOfWork(create_session_factory(engine)), SqlaAuditChains(engine), uuid.uuid4()
    async with uow.begin() as tx:
        await tx.audit.append(knock(room, START))
    try:
        async with uow.begin() as tx:
            await tx.audit.append(knock(room, START + timedelta(seconds=1)))
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert [entry.seq async for entry in chains.walk(room)] == [1]
    assert (await VerifyAudit(chains).execute(VerifyAuditRequest(room))).broken is None


async def test_concurrent_appends_to_one_room_never_fork_its_chain(engine: AsyncEngine) -> None:
    uow, chains, room = SqlaUnitOfWork(create_session_factory(engine)), SqlaAuditChains(engine), uuid.uuid4()

    async def append(n: int) -> None:
        async with uow.begin() as tx:
            await tx.audit.append(knock(room, START + timedelta(milliseconds=n), f"p{n}"))
            await asyncio.sleep(0)  # let the others reach their own append while this one holds the head

    await asyncio.gather(*(append(n) for n in range(40)))
    entries = [entry async for entry in chains.walk(room)]
    assert [entry.seq for entry in entries] == list(range(1, 41))
    assert len({entry.prev_hash for entry in entries}) == 40
    assert (await VerifyAudit(chains).execute(VerifyAuditRequest(room))).broken is None


async def test_retention_trims_the_oldest_and_the_chain_still_verifies(engine: AsyncEngine) -> None:
    uow, chains = SqlaUnitOfWork(create_session_factory(engine)), SqlaAuditChains(engine)
    old_room, mixed_room = uuid.uuid4(), uuid.uuid4()
    for day in range(5):
        async with uow.begin() as tx:
            await tx.audit.append(knock(mixed_room, START + timedelta(days=day)))
            await tx.audit.append(knock(old_room, START + timedelta(days=day) - timedelta(days=30)))
    clock = FakeClock(START + timedelta(days=12))
    trimmed = await TrimAudit(chains, clock, AuditRetention(days=10)).execute()
    assert trimmed == 5 + 2  # every entry of the old room; the mixed room's days 0 and 1 (before day 2)
    assert [entry.seq async for entry in chains.walk(mixed_room)] == [3, 4, 5]
    assert [entry.seq async for entry in chains.walk(old_room)] == []
    verdict = await VerifyAudit(chains).execute(VerifyAuditRequest())
    assert verdict.broken is None
    assert verdict.rooms == 2

    # The chain goes on from its head after a trim, and an edit after the anchor is still caught.
    async with uow.begin() as tx:
        await tx.audit.append(knock(mixed_room, START + timedelta(days=12)))
    assert (await VerifyAudit(chains).execute(VerifyAuditRequest(mixed_room))).broken is None
    async with engine.begin() as connection:
        await connection.execute(
            update(audit_entry)
            .where(audit_entry.c.room_id == mixed_room, audit_entry.c.seq == 3)
            .values(at=START - timedelta(days=1))
        )
    broken = (await VerifyAudit(chains).execute(VerifyAuditRequest(mixed_room))).broken
    assert broken is not None
    assert broken.seq == 3


async def test_an_event_appended_twice_is_stored_and_queued_once(engine: AsyncEngine) -> None:
    uow, chains, room = SqlaUnitOfWork(create_session_factory(engine)), SqlaAuditChains(engine), uuid.uuid4()
    event = knock(room, START)
    for _ in range(2):  # a lobby record moved again after its first mover died before acknowledging it
        async with uow.begin() as tx:
            await tx.audit.append(event)
    assert [entry.event.id async for entry in chains.walk(room)] == [event.id]
    assert (await VerifyAudit(chains).execute(VerifyAuditRequest(room))).broken is None
