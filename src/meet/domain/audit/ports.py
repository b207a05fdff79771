from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from meet.domain.audit.model import AuditEntry, AuditQuery, ChainHead


class AuditReader(Protocol):
    """Read model of a room's audit entries: newest first (by ``at``, then by number), one page at a time."""

    async def entries(self, room_id: uuid.UUID, query: AuditQuery) -> Sequence[AuditEntry]: ...


class AuditChains(Protocol):
    """The rooms' audit chains as stored, for verification and retention."""

    async def rooms(self) -> Sequence[uuid.UUID]:
        """Every room that has a chain (deleted rooms included)."""
        ...

    async def head(self, room_id: uuid.UUID) -> ChainHead | None: ...

    def walk(self, room_id: uuid.UUID) -> AsyncIterator[AuditEntry]:
        """The room's stored entries in ascending number, read in batches."""
        ...

    async def trim(self, before: datetime) -> int:
        """Delete each room's oldest entries taken effect before ``before`` (the longest such prefix of its
        chain), moving its anchor to the last one deleted; answer how many were deleted."""
        ...
