"""The audit chains and the webhook outbox in the database.

Appending locks each room's chain-head row (an upsert that returns the head), so two transactions
appending to one room's chain take turns instead of both building on the same last entry; the lock
lasts until the transaction that holds it commits or rolls back. A batch costs the same few statements
per room whatever its size: the head, all its entries in one multi-row ``INSERT``, the new head (and
two more, only when some were stored before, to chain the rest again without them). Then, for the
whole batch, one read of the enabled endpoints subscribed to its types, and one multi-row ``INSERT``
into the outbox only when there are some.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, update
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
            if told:
                await self._queue(list(told.values()))

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
        """Insert the entries (one multi-row statement: SQLAlchemy's "insertmanyvalues", compiled once and
        cached whatever the count); answer the ids of those not stored before."""
        if not entries:
            return set()
        rows = [_entry_row(entry) for entry in entries]
        return set((await self._session.scalars(insert.returning(audit_entry.c.id), rows)).all())

    async def _queue(self, events: Sequence[RoomEvent]) -> None:
        """Queue the events for every enabled endpoint subscribed to their types: one read of who is
        subscribed, and one multi-row insert only when somebody is."""
        types = {event.action.value for event in events}
        subscribed = (
            select(webhook_subscription.c.event_type, webhook_subscription.c.endpoint_id)
            .join(webhook_endpoint, webhook_endpoint.c.id == webhook_subscription.c.endpoint_id)
            .where(webhook_subscription.c.event_type.in_(types), webhook_endpoint.c.enabled.is_(True))
        )
        endpoints: dict[str, list[uuid.UUID]] = {}
        for event_type, endpoint_id in (await self._session.execute(subscribed)).all():
            endpoints.setdefault(event_type, []).append(endpoint_id)
        rows = [
            _outbox_row(event, endpoint_id, payload)
            for event in events
            if event.action.value in endpoints
            for payload in (json.dumps(event.as_message(), separators=(",", ":"), ensure_ascii=False),)
            for endpoint_id in endpoints[event.action.value]
        ]
        if rows:
            # RETURNING makes it one multi-row INSERT on every driver ("insertmanyvalues"), not one
            # execution per row (asyncpg's executemany).
            queue = _upsert_dialect(self._session).insert(webhook_outbox).on_conflict_do_nothing()
            await self._session.execute(queue.returning(webhook_outbox.c.event_id), rows)


def _outbox_row(event: RoomEvent, endpoint_id: uuid.UUID, payload: str) -> dict[str, object]:
    return {
        "event_id": event.id,
        "endpoint_id": endpoint_id,
        "event_type": event.action.value,
        "room_id": event.room_id,
        "at": event.at,
        "payload": payload,
        "attempts": 0,
        "next_attempt_at": event.at,
    }


def _chained(events: Sequence[RoomEvent], last_seq: int, last_hash: str) -> list[AuditEntry]:
    """The entries that follow the head, in the events' order."""
    entries: list[AuditEntry] = []
    for event in events:
        entry = AuditEntry.chained(event, last_seq + 1, last_hash)
        last_seq, last_hash = entry.seq, entry.hash
        entries.append(entry)
    return entries


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
