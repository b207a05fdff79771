"""A room's audit log as a hash chain: each entry's hash covers its own content and the previous hash.

Entries of a room are numbered 1, 2, 3... in the order they were appended; ``ChainHead`` is what the
store keeps beside them: the last number and hash (so a deleted last entry is seen too) and the anchor,
the number and hash of the last entry retention trimmed (so the chain still verifies from there).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.events import Action, RoomEvent, timestamp

GENESIS = ""


def canonical(event: RoomEvent, seq: int, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: every stored field, with the previous entry's hash."""
    content = {
        "seq": seq,
        "prev": prev_hash,
        "id": str(event.id),
        "room_id": str(event.room_id),
        "at": timestamp(event.at),
        "actor": {"kind": event.actor.kind.value, "id": event.actor.id},
        "action": event.action.value,
        "subject": dict(event.subject),
        "details": dict(event.details),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(event: RoomEvent, seq: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical(event, seq, prev_hash)).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event: RoomEvent
    seq: int
    prev_hash: str
    hash: str

    @classmethod
    def chained(cls, event: RoomEvent, seq: int, prev_hash: str) -> AuditEntry:
        return cls(event=event, seq=seq, prev_hash=prev_hash, hash=entry_hash(event, seq, prev_hash))


@dataclass(frozen=True, slots=True)
class ChainHead:
    last_seq: int = 0
    last_hash: str = GENESIS
    anchor_seq: int = 0
    anchor_hash: str = GENESIS


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first place a room's chain does not hold, and why."""

    room_id: uuid.UUID
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"room {self.room_id}: entry {self.seq}: {self.reason}"


def first_broken_link(room_id: uuid.UUID, head: ChainHead, entries: Iterable[AuditEntry]) -> BrokenLink | None:
    """Walk ``entries`` (ascending numbers, from the anchor on) and answer where the chain breaks, if it does.

    A deleted entry leaves a gap (or a successor that does not follow its predecessor), an edited one
    no longer matches its hash, and a deleted or edited tail no longer meets the head.
    """
    expected, previous = head.anchor_seq + 1, head.anchor_hash
    for entry in entries:
        if entry.seq != expected:
            return BrokenLink(room_id, expected, f"missing (the next entry found is {entry.seq})")
        if entry.prev_hash != previous:
            return BrokenLink(room_id, entry.seq, f"does not follow entry {expected - 1} (its previous hash differs)")
        if entry_hash(entry.event, entry.seq, entry.prev_hash) != entry.hash:
            return BrokenLink(room_id, entry.seq, "its content does not match its hash (edited)")
        expected, previous = expected + 1, entry.hash
    if expected - 1 != head.last_seq:
        return BrokenLink(room_id, expected, f"missing (the chain's head says it ends at entry {head.last_seq})")
    if previous != head.last_hash:
        return BrokenLink(room_id, head.last_seq, "its hash is not the one the chain's head recorded")
    return None


@dataclass(frozen=True, slots=True)
class AuditCursor:
    """Where a page of the audit list (newest first) stopped: the last entry's time and number."""

    at: datetime
    seq: int

    def encode(self) -> str:
        return base64.urlsafe_b64encode(f"{timestamp(self.at)}|{self.seq}".encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> AuditCursor:
        refused = InvalidInput("The cursor is not one this list gave.", field="cursor")
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at, seq = raw.split("|")
            parsed = datetime.fromisoformat(at).astimezone(UTC)
            number = int(seq)
        except (ValueError, OverflowError, UnicodeDecodeError, binascii.Error) as error:
            raise refused from error
        if not 0 <= number < 2**63 or "+" not in at:
            raise refused
        return cls(at=parsed, seq=number)

    @classmethod
    def after(cls, entry: AuditEntry) -> AuditCursor:
        return cls(at=entry.event.at, seq=entry.seq)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A page of a room's entries, newest first; ``since``/``until`` bound ``at`` (inclusive)."""

    limit: int
    cursor: AuditCursor | None = None
    action: Action | None = None
    since: datetime | None = None
    until: datetime | None = None
