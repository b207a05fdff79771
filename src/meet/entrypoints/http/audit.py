"""``GET /rooms/{id}/audit``: a room's audit log, newest first, for its owners and administrators."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, get
from litestar.params import Parameter

from meet.domain.audit.model import AuditEntry, AuditQuery
from meet.domain.audit.use_cases import MAX_PAGE, ListRoomAudit, ListRoomAuditRequest
from meet.domain.rooms.model import RoomRef
from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.events import AUDITED_ACTIONS, Action, timestamp
from meet.domain.users.model import Viewer
from meet.domain.users.scopes import ApiScope
from meet.entrypoints.http.bearer import needs


class ActorOut(msgspec.Struct):
    kind: str
    id: str | None


class AuditEntryOut(msgspec.Struct):
    id: uuid.UUID
    at: str
    actor: ActorOut
    action: str
    subject: dict[str, Any]
    details: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        event = entry.event
        return cls(
            id=event.id,
            at=timestamp(event.at),
            actor=ActorOut(kind=event.actor.kind.value, id=event.actor.id),
            action=event.action.value,
            subject=dict(event.subject),
            details=dict(event.details),
            hash=entry.hash,
        )


class AuditPageOut(msgspec.Struct):
    entries: list[AuditEntryOut]
    next: str | None


def _instant(value: str | None, field: str) -> datetime | None:
    """An ISO 8601 instant; one without an offset is read as UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+").upper())
        return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidInput(f"{field} must be an ISO 8601 time, e.g. 2026-12-06T12:00:00Z.", field=field) from error


def _action(value: str | None) -> Action | None:
    if value is None:
        return None
    if value not in {action.value for action in AUDITED_ACTIONS}:
        raise InvalidInput(f"action must be one of {', '.join(a.value for a in AUDITED_ACTIONS)}.", field="action")
    return Action(value)


class AuditController(Controller):
    path = "/rooms/{id_or_slug:str}/audit"
    tags = ["audit"]

    @get("/", summary="The room's audit log, newest first (owners and administrators)", **needs(ApiScope.AUDIT_READ))
    async def list_audit(
        self,
        id_or_slug: str,
        viewer: FromDishka[Viewer],
        list_audit: FromDishka[ListRoomAudit],
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Parameter(max_length=200)] = None,
        action: Annotated[
            str | None, Parameter(max_length=40, schema_extra={"enum": [a.value for a in AUDITED_ACTIONS]})
        ] = None,
        since: Annotated[str | None, Parameter(max_length=64, schema_extra={"format": "date-time"})] = None,
        until: Annotated[str | None, Parameter(max_length=64, schema_extra={"format": "date-time"})] = None,
    ) -> AuditPageOut:
        viewer.require_user_id()  # who may not read any log learns that before anything about their query
        query = AuditQuery(
            limit=limit,
            action=_action(action),
            since=_instant(since, "since"),
            until=_instant(until, "until"),
        )
        page = await list_audit.execute(ListRoomAuditRequest(viewer, RoomRef(id_or_slug), query, cursor))
        return AuditPageOut(
            entries=[AuditEntryOut.of(entry) for entry in page.entries],
            next=page.next.encode() if page.next is not None else None,
        )
