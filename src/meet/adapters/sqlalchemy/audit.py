"""The audit chains and the webhook outbox in the database.

Appending locks each room's chain-head row (an upsert that returns the head), so two transactions
appending to one room's chain take turns instead of both building on the same last entry; the lock
lasts until the transaction that holds it commits or rolls back. A batch costs the same few statements
per room whatever its size: the head, all its entries in one ``INSERT``, the new head (and two more,
only when some were stored before, to chain the rest again without them). One more statement queues
the whole batch for every enabled endpoint subscribed to its types: ``INSERT ... SELECT`` writes no
row, and reads nothing back, when nobody is subscribed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, literal, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.event_tables import (
    audit_chain,
    audit_entry,
    webhook_endpoint,
    webhook_outbox,
    webhook_subscription,
)
from meet.domain.audit.model import GENESIS, AuditEntry, AuditQuery, ChainHead
from meet.domain.shared.events import Action, Actor, ActorKind, AuditUnitOfWork, RoomEvent

WALK_BATCH = 500
# Events told to webhooks per statement: SQLite allows at most 500 SELECTs in one UNION ALL.
QUEUE_CHUNK = 500


def _upsert_dialect(session_or_engine: AsyncSession | AsyncEngine) -> Any:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, AsyncSession) else session_or_engine
    return postgresql if bind.dialect.name == "postgresql" else sqlite


class SqlaAuditLog:
    """``AuditLog`` inside one transaction's session: the entries commit (or not) with the change."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: RoomEvent) -> None:
        await self.append_many([event])

    async def append_many(self, events: Sequence[RoomEvent]) -> None:
        audited: dict[uuid.UUID, list[RoomEvent]] = {}
        for event in events:
            if event.action.is_audited:
                audited.setdefault(event.room_id, []).append(event)
        async with database_errors():
            stored: set[uuid.UUID] = set()
            for room_id in sorted(audited):  # heads locked in one order: two writers never wait on each other
                stored.update(await self._chain(room_id, audited[room_id]))
            # An event appended before (a record moved twice) is stored once and told once.
            told = {event.id: event for event in events if not event.action.is_audited or event.id in stored}
            for chunk in _chunks(list(told.values()), QUEUE_CHUNK):
                await self._queue(chunk)

    async def _chain(self, room_id: uuid.UUID, events: Sequence[RoomEvent]) -> set[uuid.UUID]:
        """Chain the room's events not stored yet, in order; answer their ids."""
        dialect = _upsert_dialect(self._session)
        lock_head = (
            dialect.insert(audit_chain)
            .values(room_id=room_id, last_seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS)
            .on_conflict_do_update(index_elements=["room_id"], set_={"last_seq": audit_chain.c.last_seq})
            .returning(audit_chain.c.last_seq, audit_chain.c.last_hash)
        )
        last_seq, last_hash = (await self._session.execute(lock_head)).one()
        unique = list({event.id: event for event in events}.values())
        entries = _chained(unique, last_seq, last_hash)
        insert = dialect.insert(audit_entry).on_conflict_do_nothing(index_elements=["id"])
        added = await self._insert(insert, entries)
        if len(added) < len(entries):
            # Some were stored before (a record moved twice): rare, so only then are this batch's rows
            # taken back and the rest chained again without them.
            await self._session.execute(delete(audit_entry).where(audit_entry.c.id.in_(added)))
            entries = _chained([event for event in unique if event.id in added], last_seq, last_hash)
            await self._insert(insert, entries)
        if not entries:
            return set()
        await self._session.execute(
            update(audit_chain)
            .where(audit_chain.c.room_id == room_id)
            .values(last_seq=entries[-1].seq, last_hash=entries[-1].hash)
        )
        return {entry.event.id for entry in entries}

    async def _insert(self, insert: Any, entries: Sequence[AuditEntry]) -> set[uuid.UUID]:
        """Insert the entries in one statement; answer the ids of those not stored before."""
        if not entries:
            return set()
        rows = [_entry_row(entry) for entry in entries]
        return set((await self._session.scalars(insert.values(rows).returning(audit_entry.c.id))).all())

    async def _queue(self, events: Sequence[RoomEvent]) -> None:
        """Queue the events for every enabled endpoint subscribed to their types, in one statement."""
        told = union_all(*(_as_row(event) for event in events)).subquery("told")
        subscribed = (
            select(
                told.c.event_id,
                webhook_subscription.c.endpoint_id,
                told.c.event_type,
                told.c.room_id,
                told.c.at,
                told.c.payload,
                literal(0, webhook_outbox.c.attempts.type),
                told.c.at,
            )
            .join(webhook_subscription, webhook_subscription.c.event_type == told.c.event_type)
            .join(webhook_endpoint, webhook_endpoint.c.id == webhook_subscription.c.endpoint_id)
            .where(webhook_endpoint.c.enabled.is_(True))
        )
        columns = ["event_id", "endpoint_id", "event_type", "room_id", "at", "payload", "attempts", "next_attempt_at"]
        queue = _upsert_dialect(self._session).insert(webhook_outbox).from_select(columns, subscribed)
        await self._session.execute(queue.on_conflict_do_nothing())


def _as_row(event: RoomEvent) -> Select[Any]:
    payload = json.dumps(event.as_message(), separators=(",", ":"), ensure_ascii=False)
    return select(
        literal(event.id, webhook_outbox.c.event_id.type).label("event_id"),
        literal(event.action.value, webhook_outbox.c.event_type.type).label("event_type"),
        literal(event.room_id, webhook_outbox.c.room_id.type).label("room_id"),
        literal(event.at, webhook_outbox.c.at.type).label("at"),
        literal(payload, webhook_outbox.c.payload.type).label("payload"),
    )


def _chained(events: Sequence[RoomEvent], last_seq: int, last_hash: str) -> list[AuditEntry]:
    """The entries that follow the head, in the events' order."""
    entries: list[AuditEntry] = []
    for event in events:
        entry = AuditEntry.chained(event, last_seq + 1, last_hash)
        last_seq, last_hash = entry.seq, entry.hash
        entries.append(entry)
    return entries


def _chunks(events: Sequence[RoomEvent], size: int) -> list[Sequence[RoomEvent]]:
    return [events[start : start + size] for start in range(0, len(events), size)]


class SqlaStandaloneAuditLog:
    """``AuditLog`` for a change that took effect outside the database (in the SFU): its own transaction."""

    def __init__(self, uow: AuditUnitOfWork) -> None:
        self._uow = uow

    async def append(self, event: RoomEvent) -> None:
        await self.append_many([event])

    async def append_many(self, events: Sequence[RoomEvent]) -> None:
        async with self._uow.begin() as tx:
            await tx.audit.append_many(events)


def _entry_row(entry: AuditEntry) -> dict[str, object]:
    event = entry.event
    return {
        "room_id": event.room_id,
        "seq": entry.seq,
        "id": event.id,
        "at": event.at,
        "actor_kind": event.actor.kind.value,
        "actor_id": event.actor.id,
        "action": event.action.value,
        "subject": dict(event.subject),
        "details": dict(event.details),
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def _entry_from_row(row: Row[Any]) -> AuditEntry:
    values = row._mapping
    event = RoomEvent(
        room_id=values["room_id"],
        action=Action(values["action"]),
        at=values["at"],
        actor=Actor(ActorKind(values["actor_kind"]), values["actor_id"]),
        subject=dict(values["subject"] or {}),
        details=dict(values["details"] or {}),
        id=values["id"],
    )
    return AuditEntry(event=event, seq=values["seq"], prev_hash=values["prev_hash"], hash=values["hash"])


class SqlaAuditReader:
    """The audit list, on the read sessions (no transaction around the one SELECT)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def entries(self, room_id: uuid.UUID, query: AuditQuery) -> Sequence[AuditEntry]:
        conditions: list[ColumnElement[bool]] = [audit_entry.c.room_id == room_id]
        if query.action is not None:
            conditions.append(audit_entry.c.action == query.action.value)
        if query.since is not None:
            conditions.append(audit_entry.c.at >= query.since)
        if query.until is not None:
            conditions.append(audit_entry.c.at <= query.until)
        if query.cursor is not None:
            at, seq = query.cursor.at, query.cursor.seq
            conditions.append(or_(audit_entry.c.at < at, and_(audit_entry.c.at == at, audit_entry.c.seq < seq)))
        statement = (
            select(audit_entry)
            .where(*conditions)
            .order_by(audit_entry.c.at.desc(), audit_entry.c.seq.desc())
            .limit(query.limit)
        )
        async with self._sessions() as session, database_errors():
            rows = (await session.execute(statement)).all()
        return [_entry_from_row(row) for row in rows]


class SqlaAuditChains:
    """Verification and retention, each in short transactions of its own."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def rooms(self) -> Sequence[uuid.UUID]:
        async with database_errors(), self._engine.connect() as connection:
            rows = (await connection.execute(select(audit_chain.c.room_id).order_by(audit_chain.c.room_id))).all()
        return [row[0] for row in rows]

    async def head(self, room_id: uuid.UUID) -> ChainHead | None:
        query = select(audit_chain).where(audit_chain.c.room_id == room_id)
        async with database_errors(), self._engine.connect() as connection:
            row = (await connection.execute(query)).one_or_none()
        if row is None:
            return None
        return ChainHead(
            last_seq=row.last_seq, last_hash=row.last_hash, anchor_seq=row.anchor_seq, anchor_hash=row.anchor_hash
        )

    async def walk(self, room_id: uuid.UUID) -> AsyncIterator[AuditEntry]:
        after = -1
        while True:
            query = (
                select(audit_entry)
                .where(audit_entry.c.room_id == room_id, audit_entry.c.seq > after)
                .order_by(audit_entry.c.seq)
                .limit(WALK_BATCH)
            )
            async with database_errors(), self._engine.connect() as connection:
                rows = (await connection.execute(query)).all()
            for row in rows:
                yield _entry_from_row(row)
            if len(rows) < WALK_BATCH:
                return
            after = rows[-1].seq

    async def trim(self, before: datetime) -> int:
        trimmed = 0
        for room_id in await self.rooms():
            trimmed += await self._trim_room(room_id, before)
        return trimmed

    async def _trim_room(self, room_id: uuid.UUID, before: datetime) -> int:
        async with database_errors(), self._engine.begin() as connection:
            # The head's lock keeps appends to this room waiting while its prefix goes.
            locked = select(audit_chain.c.last_seq).where(audit_chain.c.room_id == room_id).with_for_update()
            if (await connection.execute(locked)).one_or_none() is None:
                return 0
            first_kept = (
                select(func.min(audit_entry.c.seq))
                .where(audit_entry.c.room_id == room_id, audit_entry.c.at >= before)
                .scalar_subquery()
            )
            last_trimmed = (
                select(audit_entry.c.seq, audit_entry.c.hash)
                .where(
                    audit_entry.c.room_id == room_id,
                    or_(first_kept.is_(None), audit_entry.c.seq < first_kept),
                )
                .order_by(audit_entry.c.seq.desc())
                .limit(1)
            )
            anchor = (await connection.execute(last_trimmed)).one_or_none()
            if anchor is None:
                return 0
            gone = await connection.execute(
                delete(audit_entry).where(audit_entry.c.room_id == room_id, audit_entry.c.seq <= anchor.seq)
            )
            await connection.execute(
                update(audit_chain)
                .where(audit_chain.c.room_id == room_id)
                .values(anchor_seq=anchor.seq, anchor_hash=anchor.hash)
            )
            return int(gone.rowcount or 0)
