from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from meet.domain.lobby.model import (
    DecisionResult,
    KnockResult,
    LobbyEntry,
    LobbyEvent,
    LobbyTimeouts,
    WaitingPage,
)


class LobbyStore(Protocol):
    """The waiting rooms, one per SFU room; every method is one atomic transition.

    Expired entries are dropped as time passes (``now`` is the caller's clock). Every change
    is published to ``LobbyEvents`` subscribers of the room. Adapters raise ``LobbyUnavailable``
    when their backing service is down.
    """

    async def knock(self, room: str, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts) -> KnockResult:
        """Add ``entry`` unless its participant already has one; a waiting entry is kept alive."""
        ...

    async def touch(self, room: str, participant_id: str, now: datetime, timeouts: LobbyTimeouts) -> LobbyEntry | None:
        """The participant's current entry, kept alive if still waiting; None when absent."""
        ...

    async def decide(
        self,
        room: str,
        participant_id: str,
        *,
        allow: bool,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
    ) -> DecisionResult | None:
        """Record the first decision on a waiting entry; None when there is no such entry."""
        ...

    async def admit_all(self, room: str, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts) -> int: ...

    async def waiting(self, room: str, *, limit: int, after: int | None, now: datetime) -> WaitingPage:
        """Waiting entries in arrival order, after the position ``after`` (a cursor)."""
        ...

    async def revoke(self, room: str, participant_id: str) -> bool:
        """Drop the participant's entry whatever its state; answer whether there was one."""
        ...

    async def clear(self, room: str) -> None: ...


class LobbySubscription(Protocol):
    async def next_event(self, timeout: float) -> LobbyEvent | None:  # noqa: ASYNC109 - a wait bound, not a deadline
        """The next event of the room, or None when none came within ``timeout`` seconds."""
        ...


class LobbyEvents(Protocol):
    """Push channel of a room's lobby changes, shared by every API process."""

    def subscribe(self, room: str) -> AbstractAsyncContextManager[LobbySubscription]: ...


class RateLimiter(Protocol):
    async def hit(self, bucket: str, *, limit: int, window_seconds: int) -> int | None:
        """Count one event in ``bucket``; the seconds to wait when over ``limit``, else None."""
        ...


class KnockNotifier(Protocol):
    """Tells the room's admins who are already in the live room that people knocked (oldest first)."""

    async def knocked(self, room: str, entries: Sequence[LobbyEntry]) -> None: ...
