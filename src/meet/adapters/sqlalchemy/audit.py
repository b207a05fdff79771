"""The audit chains and the webhook outbox in the database.

Appending locks the room's chain-head row (an upsert that returns the head), so two transactions
appending to one room's chain take turns instead of both building on the same last entry; the lock
lasts until the transaction that holds it commits or rolls back. Three statements write the entry
(head, entry, new head) and one more queues it for every enabled endpoint subscribed to its type:
``INSERT ... SELECT`` writes no row, and reads nothing back, when nobody is subscribed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, literal, or_, select, update
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
    """``AuditLog`` inside one transaction's session: the entry commits (or not) with the change."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: RoomEvent) -> None:
        async with database_errors():
            if event.action.is_audited and not await self._chain(event):
                return  # appended before (a record moved twice): stored once, told once
            await self._queue(event)

    async def _chain(self, event: RoomEvent) -> bool:
        dialect = _upsert_dialect(self._session)
        lock_head = (
            dialect.insert(audit_chain)
            .values(room_id=event.room_id, last_seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS)
            .on_conflict_do_update(index_elements=["room_id"], set_={"last_seq": audit_chain.c.last_seq})
            .returning(audit_chain.c.last_seq, audit_chain.c.last_hash)
        )
        last_seq, last_hash = (await self._session.execute(lock_head)).one()
        entry = AuditEntry.chained(event, last_seq + 1, last_hash)
        insert = dialect.insert(audit_entry).values(**_entry_row(entry)).on_conflict_do_nothing(index_elements=["id"])
        if (await self._session.execute(insert.returning(audit_entry.c.seq))).first() is None:
            return False
        await self._session.execute(
            update(audit_chain)
            .where(audit_chain.c.room_id == event.room_id)
            .values(last_seq=entry.seq, last_hash=entry.hash)
        )
        return True

    async def _queue(self, event: RoomEvent) -> None:
        payload = json.dumps(event.as_message(), separators=(",", ":"), ensure_ascii=False)
        subscribed = (
            select(
                literal(event.id, webhook_outbox.c.event_id.type),
                webhook_subscription.c.endpoint_id,
                literal(event.action.value, webhook_outbox.c.event_type.type),
                literal(event.room_id, webhook_outbox.c.room_id.type),
                literal(event.at, webhook_outbox.c.at.type),
                literal(payload, webhook_outbox.c.payload.type),
                literal(0, webhook_outbox.c.attempts.type),
                literal(event.at, webhook_outbox.c.next_attempt_at.type),
            )
            .join(webhook_endpoint, webhook_endpoint.c.id == webhook_subscription.c.endpoint_id)
            .where(webhook_subscription.c.event_type == event.action.value, webhook_endpoint.c.enabled.is_(True))
        )
        columns = ["event_id", "endpoint_id", "event_type", "room_id", "at", "payload", "attempts", "next_attempt_at"]
        queue = _upsert_dialect(self._session).insert(webhook_outbox).from_select(columns, subscribed)
        await self._session.execute(queue.on_conflict_do_nothing())


class SqlaStandaloneAuditLog:
    """``AuditLog`` for a change that took effect outside the database (in the SFU): its own transaction."""

    def __init__(self, uow: AuditUnitOfWork) -> None:
        self._uow = uow

    async def append(self, event: RoomEvent) -> None:
        async with self._uow.begin() as tx:
            await tx.audit.append(event)


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
