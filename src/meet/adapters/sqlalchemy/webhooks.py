"""Webhook endpoints and the outbox in the database.

A claim is one statement: it picks due messages of enabled endpoints, oldest first, skipping rows
another process has locked (``FOR UPDATE SKIP LOCKED``), and leases them (``next_attempt_at`` moved
past the attempt's end, ``attempts`` counted) before the claiming transaction commits, so no other
process picks them until the attempt is recorded or the lease runs out (a process that died
mid-attempt: its messages are attempted again, at least once).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.event_tables import webhook_endpoint, webhook_outbox, webhook_subscription
from meet.domain.webhooks.model import Delivery, SigningKeys, WebhookEndpoint
from meet.domain.webhooks.ports import SecretBox


class SqlaWebhookEndpoints:
    def __init__(self, engine: AsyncEngine, box: SecretBox) -> None:
        self._engine = engine
        self._box = box

    async def add(self, endpoint: WebhookEndpoint, keys: SigningKeys) -> None:
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(
                webhook_endpoint.insert().values(
                    id=endpoint.id,
                    url=endpoint.url,
                    secret=self._box.seal(keys.current),
                    previous_secret=None,
                    previous_until=None,
                    enabled=endpoint.enabled,
                    created_at=endpoint.created_at,
                )
            )
            await connection.execute(
                webhook_subscription.insert(),
                [{"endpoint_id": endpoint.id, "event_type": event_type} for event_type in endpoint.event_types],
            )

    async def all(self) -> Sequence[WebhookEndpoint]:
        async with database_errors(), self._engine.connect() as connection:
            rows = (await connection.execute(select(webhook_endpoint).order_by(webhook_endpoint.c.created_at))).all()
            types = (await connection.execute(select(webhook_subscription))).all()
        by_endpoint: dict[uuid.UUID, list[str]] = {}
        for endpoint_id, event_type in types:
            by_endpoint.setdefault(endpoint_id, []).append(event_type)
        return [
            WebhookEndpoint(
                id=row.id,
                url=row.url,
                event_types=tuple(sorted(by_endpoint.get(row.id, []))),
                enabled=row.enabled,
                created_at=row.created_at,
                disabled_reason=row.disabled_reason,
            )
            for row in rows
        ]

    async def remove(self, endpoint_id: uuid.UUID) -> bool:
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(delete(webhook_outbox).where(webhook_outbox.c.endpoint_id == endpoint_id))
            await connection.execute(
                delete(webhook_subscription).where(webhook_subscription.c.endpoint_id == endpoint_id)
            )
            gone = await connection.execute(delete(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id))
        return bool(gone.rowcount)

    async def rotate(self, endpoint_id: uuid.UUID, keys: SigningKeys) -> bool:
        values = {
            "secret": self._box.seal(keys.current),
            "previous_secret": self._box.seal(keys.previous) if keys.previous else None,
            "previous_until": keys.previous_until,
        }
        async with database_errors(), self._engine.begin() as connection:
            done = await connection.execute(
                update(webhook_endpoint).where(webhook_endpoint.c.id == endpoint_id).values(**values)
            )
        return bool(done.rowcount)

    async def signing(
        self, endpoint_ids: Collection[uuid.UUID]
    ) -> Mapping[uuid.UUID, tuple[WebhookEndpoint, SigningKeys]]:
        query = select(webhook_endpoint).where(
            webhook_endpoint.c.id.in_(list(endpoint_ids)), webhook_endpoint.c.enabled.is_(True)
        )
        async with database_errors(), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        found: dict[uuid.UUID, tuple[WebhookEndpoint, SigningKeys]] = {}
        for row in rows:
            endpoint = WebhookEndpoint(
                id=row.id, url=row.url, event_types=(), enabled=row.enabled, created_at=row.created_at
            )
            keys = SigningKeys(
                current=self._box.open(row.secret),
                previous=self._box.open(row.previous_secret) if row.previous_secret else None,
                previous_until=row.previous_until,
            )
            found[row.id] = (endpoint, keys)
        return found

    async def disable(self, endpoint_id: uuid.UUID, reason: str) -> None:
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(
                update(webhook_endpoint)
                .where(webhook_endpoint.c.id == endpoint_id)
                .values(enabled=False, disabled_reason=reason[:500])
            )


class SqlaWebhookOutbox:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> Sequence[Delivery]:
        due_condition = (
            webhook_outbox.c.next_attempt_at.is_not(None),
            webhook_outbox.c.next_attempt_at <= now,
            webhook_endpoint.c.enabled.is_(True),
        )
        joined = webhook_outbox.join(webhook_endpoint, webhook_endpoint.c.id == webhook_outbox.c.endpoint_id)
        async with database_errors():
            # A read first: the idle poll of every process writes nothing.
            async with self._engine.connect() as connection:
                if not (await connection.execute(select(exists().select_from(joined).where(*due_condition)))).scalar():
                    return []
            due = (
                select(webhook_outbox.c.event_id, webhook_outbox.c.endpoint_id)
                .select_from(joined)
                .where(*due_condition)
                .order_by(webhook_outbox.c.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True, of=webhook_outbox)
            )
            claim = (
                update(webhook_outbox)
                .where(tuple_(webhook_outbox.c.event_id, webhook_outbox.c.endpoint_id).in_(due))
                .values(attempts=webhook_outbox.c.attempts + 1, next_attempt_at=now + lease)
                .returning(webhook_outbox)
            )
            async with self._engine.begin() as connection:
                rows = (await connection.execute(claim)).all()
        deliveries = [
            Delivery(
                event_id=row.event_id,
                endpoint_id=row.endpoint_id,
                event_type=row.event_type,
                room_id=row.room_id,
                at=row.at,
                payload=row.payload,
                attempts=row.attempts,
            )
            for row in rows
        ]
        return sorted(deliveries, key=lambda delivery: delivery.at)

    async def delivered(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        if not deliveries:
            return
        theirs = tuple_(webhook_outbox.c.event_id, webhook_outbox.c.endpoint_id, webhook_outbox.c.attempts).in_(
            [(d.event_id, d.endpoint_id, d.attempts) for d in deliveries]
        )
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(
                update(webhook_outbox).where(theirs).values(delivered_at=now, next_attempt_at=None, last_error=None)
            )

    async def failed(self, delivery: Delivery, retry_at: datetime | None, error: str) -> None:
        await self._record(delivery, next_attempt_at=retry_at, last_error=error[:500])

    async def _record(self, delivery: Delivery, **values: object) -> None:
        # Only this attempt's lease: a lease that ran out and was claimed again is the new claimer's.
        mine = (
            webhook_outbox.c.event_id == delivery.event_id,
            webhook_outbox.c.endpoint_id == delivery.endpoint_id,
            webhook_outbox.c.attempts == delivery.attempts,
        )
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(update(webhook_outbox).where(*mine).values(**values))
