"""Room events: one per change that took effect, recorded in the room's audit chain and told to webhooks.

Every context that changes something appends its event through ``AuditLog``; where the change is a
database write, inside the same transaction, so the change and its record commit together.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

JsonScalar = str | int | bool | None
Details = Mapping[str, JsonScalar]


def timestamp(at: datetime) -> str:
    """The one spelling of an instant in hashes, payloads and cursors (UTC, microseconds)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


class ActorKind(StrEnum):
    USER = "user"
    APPLICATION = "application"
    SFU = "sfu"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made the change: a user (by ``sub``), an application, the SFU, or meet itself."""

    kind: ActorKind
    id: str | None = None

    @classmethod
    def user(cls, sub: str | None) -> Actor:
        """A signed-in user by ``sub``; an anonymous caller has no id."""
        return cls(ActorKind.USER, sub)

    @classmethod
    def application(cls, client_id: str) -> Actor:
        """An application acting for a user with a token (by ``client_id``)."""
        return cls(ActorKind.APPLICATION, client_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @classmethod
    def sfu(cls) -> Actor:
        return cls(ActorKind.SFU)


class Action(StrEnum):
    """What happened; a webhook's ``type`` is the same name."""

    ROOM_CREATED = "room.created"
    ROOM_UPDATED = "room.updated"
    ROOM_DELETED = "room.deleted"
    ACCESS_GRANTED = "access.granted"
    ACCESS_CHANGED = "access.changed"
    ACCESS_REVOKED = "access.revoked"
    LOBBY_KNOCKED = "lobby.knocked"
    LOBBY_ADMITTED = "lobby.admitted"
    LOBBY_DENIED = "lobby.denied"
    LOBBY_LEFT = "lobby.left"
    LOBBY_BLOCKED = "lobby.blocked"  # denied too often: knocking refused for a while
    LOBBY_MESSAGED = "lobby.messaged"  # an admin spoke to those waiting (what was said is not recorded)
    ROOM_LOCKED = "room.locked"
    ROOM_UNLOCKED = "room.unlocked"
    ROOM_ENDED = "room.ended"
    ROOM_REOPENED = "room.reopened"
    PARTICIPANT_SENT_TO_LOBBY = "participant.sent_to_lobby"
    PARTICIPANT_REMOVED = "participant.removed"
    PARTICIPANT_MUTED = "participant.muted"
    PARTICIPANT_ROLE_CHANGED = "participant.role_changed"
    PARTICIPANT_RENAMED = "participant.renamed"
    RECORDING_STARTED = "recording.started"
    RECORDING_STOPPED = "recording.stopped"
    RECORDING_SAVED = "recording.saved"
    RECORDING_FAILED = "recording.failed"
    RECORDING_DOWNLOADED = "recording.downloaded"
    # Told to webhooks only: the SFU's own account of the live room, not a decision anyone made here.
    ROOM_STARTED = "room.started"
    ROOM_FINISHED = "room.finished"

    @property
    def is_audited(self) -> bool:
        return self not in WEBHOOK_ONLY


WEBHOOK_ONLY = frozenset({Action.ROOM_STARTED, Action.ROOM_FINISHED})
AUDITED_ACTIONS = tuple(action for action in Action if action.is_audited)


def participant(identity: str, name: str | None = None) -> Details:
    """The subject of an event about someone in the lobby or the live room (their SFU identity)."""
    return {"kind": "participant", "id": identity, "name": name}


def user(sub: str, name: str | None = None) -> Details:
    """The subject of an event about a user's access (by ``sub``)."""
    return {"kind": "user", "id": sub, "name": name}


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """One change that took effect in a room, at ``at`` (when it took effect, not when it was stored)."""

    room_id: uuid.UUID
    action: Action
    at: datetime
    actor: Actor
    subject: Details = field(default_factory=dict)
    details: Details = field(default_factory=dict)
    id: uuid.UUID = field(default_factory=uuid.uuid4)

    def as_message(self) -> dict[str, object]:
        """The event as a webhook receiver gets it (Standard Webhooks' ``type``/``timestamp``/``data``)."""
        return {
            "type": self.action.value,
            "timestamp": timestamp(self.at),
            "data": {
                "id": str(self.id),
                "room_id": str(self.room_id),
                "at": timestamp(self.at),
                "actor": {"kind": self.actor.kind.value, "id": self.actor.id},
                "action": self.action.value,
                "subject": dict(self.subject),
                "details": dict(self.details),
            },
        }


class AuditLog(Protocol):
    """Appends a room's event to its audit chain and the webhook outbox, atomically with the change."""

    async def append(self, event: RoomEvent) -> None: ...

    async def append_many(self, events: Sequence[RoomEvent]) -> None:
        """Append each as ``append`` would, in order within a room, for a few statements per room."""
        ...


class AuditTransaction(Protocol):
    @property
    def audit(self) -> AuditLog: ...


class AuditUnitOfWork(Protocol):
    """Opens a transaction in which events are appended (committed when the block ends)."""

    def begin(self) -> AbstractAsyncContextManager[AuditTransaction]: ...
