"""The door of a live meeting: locked, ended for a grace period, full, and who was sent back to the lobby.

The door's state lives beside the room's lobby (under the room's hash tag in Redis) and is checked inside
the one step a knock, an admission or a join's check already takes: it never costs them a round trip.

- **Locked** (by an admin, until unlocked or the meeting ends): nobody new enters, members included (a
  knock answers ``locked`` and creates no entry; a direct join gets no connection, ``held: "locked"``);
  those inside stay; admins still enter; people already waiting may still be admitted.
- **Ended** (an admin ended the meeting for everyone): for the grace period a knock answers ``ended`` and
  a join other than an admin's answers ``meeting_ended``; an admin's join opens the room again.
- **Capacity**: the participants in the live room (counted from the SFU's webhooks) plus the seats held
  for those just admitted; a join or an admission beyond it answers ``room_full``. Admins are not counted
  out: a host always reaches their own meeting.
- **Sent back**: a member an admin sent back to the lobby joins no more directly for this meeting; their
  knock makes them wait, and admitting them lifts it.
"""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.errors import Conflict

# How long an admission holds its seat for the admitted person to connect (their join's webhook then
# counts them); a seat never taken frees itself after that.
SEAT_HOLD_SECONDS = 120


class DoorRefusal(enum.StrEnum):
    """Why the door keeps someone out (also the knock's ``status`` for ``LOCKED`` and ``ENDED``)."""

    LOCKED = "locked"
    ENDED = "ended"
    FULL = "full"
    SENT_BACK = "sent_to_lobby"


@dataclass(frozen=True, slots=True)
class Entrant:
    """Who comes through the door: an admin passes a lock and reopens an ended meeting; ``capacity`` is
    the room's (0: no limit); ``identities`` are the ones the request speaks for."""

    admin: bool = False
    capacity: int = 0
    identities: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DoorState:
    """The door as the store read it, in the same step as the join's check.

    ``taken``: participants in the live room and seats held for admitted ones; ``suspended``: those of the
    checked identities sent back to the lobby; ``inside``: those already counted in the room."""

    locked: bool = False
    ended_until_ms: int = 0
    taken: int = 0
    suspended: frozenset[str] = frozenset()
    inside: frozenset[str] = frozenset()

    def ended(self, now: datetime) -> bool:
        return self.ended_until_ms > now.timestamp() * 1000

    def refusal(self, entrant: Entrant, now: datetime) -> DoorRefusal | None:
        """Why ``entrant`` may not enter directly now; None when they may (an admin always may)."""
        if entrant.admin:
            return None
        if self.ended(now):
            return DoorRefusal.ENDED
        if self.locked:
            return DoorRefusal.LOCKED
        if self.suspended.intersection(entrant.identities):
            return DoorRefusal.SENT_BACK
        if self.full_for(entrant):
            return DoorRefusal.FULL
        return None

    def full_for(self, entrant: Entrant) -> bool:
        return 0 < entrant.capacity <= self.taken and not self.inside.intersection(entrant.identities)


OPEN = DoorState()


@dataclass(frozen=True, slots=True)
class DoorPolicy:
    """``max_participants``: the default capacity of a room (0: no limit); ``end_grace_seconds``: how long
    an ended meeting stays shut to all but admins."""

    max_participants: int = 0
    end_grace_seconds: int = 60

    def capacity(self, configured: int | None) -> int:
        return capacity_of(configured, self.max_participants)


def capacity_of(configured: int | None, default: int) -> int:
    """A room's capacity: its own ``max_participants`` when set (at most the default), else the default;
    0 is no limit."""
    if configured is None or configured <= 0:
        return default
    return min(configured, default) if default > 0 else configured


@dataclass(frozen=True, slots=True)
class SentBack:
    """A send-back's outcome: ``participant_id`` is the lobby entry waiting again (a guest's), or None for a
    member (suspended: their knock makes them wait)."""

    identity: str
    participant_id: str | None = None


class RoomDoor(Protocol):
    """The door of each live room, every method one atomic step with the lobby beside it.

    Adapters raise ``LobbyUnavailable`` when their backing service is down."""

    async def lock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        """Lock the room (until unlocked or the meeting ends); answer whether it was unlocked."""
        ...

    async def unlock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        """Unlock the room; answer whether it was locked."""
        ...

    async def end(self, room: SfuRoomName, *, by: str, now: datetime, grace_seconds: int) -> int:
        """End the meeting: the lobby emptied (everyone waiting told ``ended``), the lock, the count and
        the send-backs forgotten, the door shut to all but admins for ``grace_seconds``. Answer how many
        were waiting."""
        ...

    async def reopen(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        """An admin opens an ended meeting again; answer whether it was in its grace period."""
        ...

    async def send_back(
        self, room: SfuRoomName, identity: str, *, by: str, now: datetime, waiting_seconds: int, room_seconds: int
    ) -> SentBack:
        """Send a participant back to the lobby: a guest's entry (``identity`` is its participant id) waits
        again, same id, told on its channel (kept ``waiting_seconds`` without a poll; the room's lobby kept
        ``room_seconds``); anyone else is suspended for this meeting (their join no longer lets them in
        directly, admitting their next knock lifts it). Their seat is freed."""
        ...

    async def joined(self, room: SfuRoomName, identity: str) -> bool:
        """The SFU says ``identity`` is in the live room: counted once however often told; False (not
        counted) when the door keeps them out (sent back to the lobby), for the caller to remove them."""
        ...

    async def left(self, room: SfuRoomName, identity: str) -> None: ...

    async def finished(self, room: SfuRoomName) -> None:
        """The live meeting finished: the lock, the count and the send-backs go with it."""
        ...


class RoomFull(Conflict):
    default_message = "The room is full."
    code = "room_full"


class MeetingEnded(Conflict):
    default_message = "The meeting was ended; an administrator may open it again."
    code = "meeting_ended"


class RoomHasNoLobby(Conflict):
    default_message = "Everyone enters this room directly: there is no lobby to send anyone back to."
    code = "room_has_no_lobby"


class CountPresence:
    """SFU event handler: who is in each live room (for its capacity), and the door's state ending with the
    meeting. Webhooks arrive at least once and unordered: joining counts an identity once, leaving forgets
    it, and the room finishing forgets everything. Someone sent back to the lobby who connects again (with
    the token they still hold) is removed again."""

    def __init__(self, door: RoomDoor, sfu: Sfu) -> None:
        self._door = door
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        room, identity = event.room, event.participant_identity
        if not room:
            return
        if event.kind == "room_finished":
            await self._door.finished(room)
        elif identity and event.kind == "participant_joined":
            if not await self._door.joined(room, identity):
                with contextlib.suppress(ParticipantNotInRoom):
                    await self._sfu.remove_participant(room, identity)
        elif identity and event.kind == "participant_left":
            await self._door.left(room, identity)


def refusal_error(refusal: DoorRefusal) -> Conflict | None:
    """The error a join refused for ``refusal`` answers (None: it answers without a connection)."""
    if refusal is DoorRefusal.FULL:
        return RoomFull()
    if refusal is DoorRefusal.ENDED:
        return MeetingEnded()
    return None
