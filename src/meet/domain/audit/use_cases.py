"""Audit use cases: a room's owners read its log; operators verify every chain and trim old entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from meet.domain.audit.model import AuditCursor, AuditEntry, AuditQuery, BrokenLink, first_broken_link
from meet.domain.audit.ports import AuditChains, AuditReader
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import RoomRef
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import InvalidInput
from meet.domain.users.model import Viewer

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class ListRoomAuditRequest:
    viewer: Viewer
    room: RoomRef
    query: AuditQuery
    cursor: str | None = None  # as the previous page gave it; read once the caller may read the log


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: Sequence[AuditEntry]
    next: AuditCursor | None


class ListRoomAudit:
    """A room's owners and administrators read its audit log, newest first, a page at a time."""

    def __init__(self, locator: RoomLocator, reader: AuditReader) -> None:
        self._locator = locator
        self._reader = reader

    async def execute(self, request: ListRoomAuditRequest) -> AuditPage:
        query = request.query
        if not 1 <= query.limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
        visit = await self._locator.administered(request.viewer, request.room)
        if request.cursor is not None:
            query = replace(query, cursor=AuditCursor.decode(request.cursor))
        if query.since is not None and query.until is not None and query.since > query.until:
            return AuditPage(entries=[], next=None)  # an empty window: nothing is both after and before
        # One more than asked says whether another page follows, without counting.
        rows = await self._reader.entries(visit.room.id, replace(query, limit=query.limit + 1))
        entries = rows[: query.limit]
        more = len(rows) > query.limit
        return AuditPage(entries=entries, next=AuditCursor.after(entries[-1]) if more else None)


@dataclass(frozen=True, slots=True)
class VerifyAuditRequest:
    room_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    rooms: int
    entries: int
    broken: BrokenLink | None


class VerifyAudit:
    """Walk one room's chain, or every room's, and name the first broken link."""

    def __init__(self, chains: AuditChains) -> None:
        self._chains = chains

    async def execute(self, request: VerifyAuditRequest) -> AuditVerdict:
        rooms = [request.room_id] if request.room_id is not None else await self._chains.rooms()
        checked = 0
        for count, room_id in enumerate(rooms, start=1):
            head = await self._chains.head(room_id)
            if head is None:
                if request.room_id is not None:
                    raise InvalidInput(f"Room {room_id} has no audit log.", field="room")
                continue
            entries = [entry async for entry in self._chains.walk(room_id)]
            checked += len(entries)
            broken = first_broken_link(room_id, head, entries)
            if broken is not None:
                return AuditVerdict(rooms=count, entries=checked, broken=broken)
        return AuditVerdict(rooms=len(rooms), entries=checked, broken=None)


@dataclass(frozen=True, slots=True)
class AuditRetention:
    """How long entries are kept; ``None`` keeps them for ever."""

    days: int | None = None


class TrimAudit:
    """Delete entries older than the retention, keeping every chain verifiable (its anchor moves)."""

    def __init__(self, chains: AuditChains, clock: Clock, retention: AuditRetention) -> None:
        self._chains = chains
        self._clock = clock
        self._retention = retention

    async def execute(self) -> int:
        if self._retention.days is None:
            return 0
        return await self._chains.trim(self._clock.now() - timedelta(days=self._retention.days))
