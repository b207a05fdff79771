"""The waiting room: who knocked, in which order, and what was decided."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from meet.domain.shared.text import color_for


class LobbyStatus(enum.StrEnum):
    WAITING = "waiting"
    ACCEPTED = "accepted"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class LobbyEntry:
    """One person at the door of one room.

    ``participant_id`` is issued by the server (UUID4) and becomes the SFU identity of an
    anonymous participant once admitted; the client only ever proves it with a credential.
    """

    participant_id: str
    username: str
    color: str
    status: LobbyStatus
    requested_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    position: int = 0  # arrival order in the room, assigned by the store

    @classmethod
    def knock(cls, participant_id: str, username: str, now: datetime) -> LobbyEntry:
        return cls(
            participant_id=participant_id,
            username=username,
            color=color_for(participant_id),
            status=LobbyStatus.WAITING,
            requested_at=now,
        )

    def decided(self, *, allow: bool, by: str, at: datetime) -> LobbyEntry:
        status = LobbyStatus.ACCEPTED if allow else LobbyStatus.DENIED
        return replace(self, status=status, decided_at=at, decided_by=by)

    @property
    def is_waiting(self) -> bool:
        return self.status is LobbyStatus.WAITING


@dataclass(frozen=True, slots=True)
class LobbyTimeouts:
    """How long each kind of entry lives without activity (seconds)."""

    waiting: int = 30
    accepted: int = 600
    denied: int = 300

    def for_status(self, status: LobbyStatus) -> int:
        if status is LobbyStatus.WAITING:
            return self.waiting
        if status is LobbyStatus.ACCEPTED:
            return self.accepted
        return self.denied

    @property
    def longest(self) -> int:
        return max(self.waiting, self.accepted, self.denied)


@dataclass(frozen=True, slots=True)
class KnockResult:
    entry: LobbyEntry
    created: bool


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """``changed`` is false when the entry had already been decided (by this or another admin)."""

    entry: LobbyEntry
    changed: bool


@dataclass(frozen=True, slots=True)
class WaitingPage:
    entries: tuple[LobbyEntry, ...]
    count: int
    next_cursor: int | None


class LobbyEventType(enum.StrEnum):
    KNOCKED = "knocked"
    DECIDED = "decided"
    LEFT = "left"  # expired, revoked or removed
    CLEARED = "cleared"  # the whole lobby was reset (e.g. the SFU room finished)


@dataclass(frozen=True, slots=True)
class LobbyEvent:
    type: LobbyEventType
    participant_id: str | None = None
    entry: LobbyEntry | None = None
