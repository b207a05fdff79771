"""The lobby's decisions, recorded by its store in the same atomic step as the decision, then moved into
the audit log by any process: a process dying right after a decision loses nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from meet.domain.shared.events import Action, Actor, AuditUnitOfWork, Details, RoomEvent, participant

# Record ids are the store's; the event id derived from (room, record id) makes a second move of one
# record (its mover died after storing it, before acknowledging) the same entry, stored once.
RECORD_NAMESPACE = uuid.UUID("7f1c2a4e-5b83-4d6a-9e0f-3c1b2d4e5f60")


@dataclass(frozen=True, slots=True)
class LobbyRecord:
    id: str
    room: str  # the SFU room name
    action: Action
    at: datetime
    participant_id: str | None = None
    name: str | None = None
    by: str | None = None  # the deciding admin's sub
    reason: str | None = None
    count: int | None = None

    def event(self) -> RoomEvent | None:
        """The audit event; None for a temporary room (named by a slug: no registered room, no log)."""
        try:
            room_id = uuid.UUID(self.room)
        except ValueError:
            return None
        if self.by:
            actor = Actor.user(self.by)
        elif self.action is Action.LOBBY_KNOCKED and self.participant_id:
            actor = Actor.user(self.participant_id)
        else:
            actor = Actor.system()
        subject: Details = participant(self.participant_id, self.name) if self.participant_id else {}
        details: dict[str, str | int | bool | None] = {}
        if self.reason:
            details["reason"] = self.reason
        if self.count is not None:
            details["count"] = self.count
            details["all"] = True
        event_id = uuid.uuid5(RECORD_NAMESPACE, f"{self.room}/{self.id}")
        return RoomEvent(room_id, self.action, self.at, actor, subject=subject, details=details, id=event_id)


class LobbyRecords(Protocol):
    """Records the lobby store emitted with its decisions, until moved. A claim hands each record to one
    mover; records a mover claimed and never acknowledged (it died) are claimed again by another."""

    async def claim(self, limit: int) -> Sequence[LobbyRecord]: ...

    async def acknowledge(self, records: Sequence[LobbyRecord]) -> None:
        """They are stored: drop them from the store."""
        ...


class MoveLobbyRecords:
    """Move a batch of lobby records into the audit log (one transaction, one batched append: a few
    statements per room, chain heads locked in a fixed order so two movers never wait on each other's),
    then acknowledge them; answer how many were moved."""

    def __init__(self, records: LobbyRecords, uow: AuditUnitOfWork, batch_size: int = 200) -> None:
        self._records = records
        self._uow = uow
        self._batch_size = batch_size

    async def execute(self) -> int:
        batch = await self._records.claim(self._batch_size)
        if not batch:
            return 0
        events = [event for record in batch if (event := record.event()) is not None]
        async with self._uow.begin() as tx:
            await tx.audit.append_many(events)
        await self._records.acknowledge(batch)
        return len(batch)
