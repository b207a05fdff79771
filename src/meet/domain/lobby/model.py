"""The waiting room: who knocked, in which order, and what was decided."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from meet.domain.conference.door import DoorRefusal
from meet.domain.shared.text import color_for


@dataclass(frozen=True, slots=True)
class LobbyMessage:
    """What an admin said to those waiting: to everyone (``participant_id`` None) or to one of them."""

    text: str
    sent_at: datetime
    participant_id: str | None = None
    sent_by: str | None = None  # the admin's sub (for the audit log; the waiting are not shown it)


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
    reason: str | None = None  # a denial's, as the admin gave it (cleaned)
    address: str | None = None  # the client address that knocked: repeated denials block it too
    # The latest message to those waiting that concerns this participant, read with the entry (not stored
    # with it): polls and streams show it while the entry waits.
    message: LobbyMessage | None = None

    @classmethod
    def knock(cls, participant_id: str, username: str, now: datetime, address: str | None = None) -> LobbyEntry:
        return cls(
            participant_id=participant_id,
            username=username,
            color=color_for(participant_id),
            status=LobbyStatus.WAITING,
            requested_at=now,
            address=address,
        )

    def decided(self, *, allow: bool, by: str, at: datetime, reason: str | None = None) -> LobbyEntry:
        status = LobbyStatus.ACCEPTED if allow else LobbyStatus.DENIED
        return replace(self, status=status, decided_at=at, decided_by=by, reason=None if allow else reason)

    @property
    def is_waiting(self) -> bool:
        return self.status is LobbyStatus.WAITING


@dataclass(frozen=True, slots=True)
class LobbyTimeouts:
    """How long each kind of entry lives without activity (seconds)."""

    waiting: int = 30
    accepted: int = 600
    denied: int = 300
    # Repeated knocking: a participant (or a client address) denied ``denials_before_block`` times within
    # ``denial_window`` seconds is blocked from knocking for ``blocked`` seconds (a bar, so durably).
    denials_before_block: int = 3
    denial_window: int = 600
    blocked: int = 3600

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
class KnockGate:
    """What a knock (or a poll) is checked against in the same atomic step as the knock itself.

    ``rate_bucket`` counts one hit against ``rate_limit`` per ``window_seconds`` (scoped to the room);
    ``identities`` are looked up among the room's bars (a removal's or a denial's): none for a
    newcomer whose id the same request minted. ``room_stamp``, when given, must still be the room's
    (``RoomStamps``): the room the caller decided on has not changed since it was read.
    """

    rate_bucket: str
    rate_limit: int
    window_seconds: int = 60
    identities: tuple[str, ...] = ()
    room_stamp: str | None = None
    # Looked up among the room's bars too, as blocks of repeated knocking (``lobby.blocks``): the
    # participant's, the account's and the client address's.
    blocks: tuple[str, ...] = ()
    # The door (``conference.door``): an admin passes a lock and reopens an ended meeting; ``capacity``
    # (0: none) is checked for whoever would enter directly.
    admin: bool = False
    capacity: int = 0
    by: str | None = None  # the admin whose entry reopens an ended meeting
    sent_back: str | None = None  # the member (sent back to the lobby) this knock waits for: admitting lifts it


@dataclass(frozen=True, slots=True)
class GateResult:
    """``retry_after`` (seconds) when over the rate limit; ``barred`` when a bar holds an identity;
    ``stale`` when the room changed since the caller read it (nothing was counted or changed); ``blocked``
    when repeated denials blocked the participant or its address."""

    retry_after: int | None = None
    barred: bool = False
    stale: bool = False
    blocked: bool = False
    door: DoorRefusal | None = None  # the door kept them out (locked, ended, full, sent back)

    @property
    def passed(self) -> bool:
        return (
            self.retry_after is None and not self.barred and not self.stale and not self.blocked and self.door is None
        )


PASSED = GateResult()


@dataclass(frozen=True, slots=True)
class KnockResult:
    """The entry as stored (``created`` when this knock added it); when the gate refused, nothing
    changed and ``entry`` is the knock as offered."""

    entry: LobbyEntry
    created: bool
    gate: GateResult = PASSED


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """``changed`` is false when the entry had already been decided (by this or another admin), or when
    the room was ``full`` (nothing changed); ``blocked``: the blocks (``lobby.blocks``) this denial set, as
    it was one too many."""

    entry: LobbyEntry
    changed: bool
    blocked: tuple[str, ...] = ()
    full: bool = False


@dataclass(frozen=True, slots=True)
class WaitingPage:
    entries: tuple[LobbyEntry, ...]
    count: int
    next_cursor: int | None
    stale: bool = False  # the room changed since the caller read it: nothing was read


class LobbyEventType(enum.StrEnum):
    KNOCKED = "knocked"
    DECIDED = "decided"
    LEFT = "left"  # expired, revoked or removed
    CLEARED = "cleared"  # the whole lobby was reset (e.g. the SFU room finished)
    ENDED = "ended"  # an admin ended the meeting: the lobby was emptied, everyone waiting is told
    RESYNC = "resync"  # the channel was re-established (it moved): events may have been missed, read again
    MESSAGE = "message"  # an admin spoke to those waiting (to one of them: ``participant_id``)

    @property
    def carries_entry(self) -> bool:
        """Knocks and decisions come with the participant's entry as it now is."""
        return self is LobbyEventType.KNOCKED or self is LobbyEventType.DECIDED

    @property
    def whole_lobby(self) -> bool:
        """About everyone in the lobby (no participant): the lobby reset, or the meeting ended."""
        return self is LobbyEventType.CLEARED or self is LobbyEventType.ENDED


@dataclass(frozen=True, slots=True)
class LobbyEvent:
    type: LobbyEventType
    participant_id: str | None = None
    entry: LobbyEntry | None = None
    message: LobbyMessage | None = None
