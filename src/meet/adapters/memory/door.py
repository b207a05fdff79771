"""The door of each room in this process's memory, beside the memory lobby (same contract as Redis's
``door``, ``present`` and ``held`` keys): the memory store's knock, admissions and the join's check read it
in the same step, without an ``await`` between reading and writing."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from meet.domain.conference.door import SEAT_HOLD_SECONDS, DoorRefusal, DoorState, SentBack
from meet.domain.lobby.model import KnockGate
from meet.domain.rooms.model import SfuRoomName

if TYPE_CHECKING:
    from meet.adapters.memory.lobby import MemoryLobbyStore


@dataclasses.dataclass
class _Door:
    locked: bool = False
    ended_until: datetime | None = None
    # identity -> None (in the live room) or the moment a seat held for an admitted participant frees itself
    present: dict[str, datetime | None] = dataclasses.field(default_factory=dict)
    # a member sent back -> "1"; the participant id of the knock made for them -> that member
    held: dict[str, str] = dataclasses.field(default_factory=dict)


class MemoryDoors:
    """Every room's door, shared by the memory lobby store and ``MemoryRoomDoor``."""

    def __init__(self) -> None:
        self._doors: dict[str, _Door] = {}

    def of(self, room: SfuRoomName) -> _Door:
        return self._doors.setdefault(room, _Door())

    def ended(self, room: SfuRoomName, now: datetime) -> bool:
        until = self.of(room).ended_until
        return until is not None and until > now

    def reopen(self, room: SfuRoomName, now: datetime) -> bool:
        if not self.ended(room, now):
            return False
        self.of(room).ended_until = None
        return True

    def taken(self, room: SfuRoomName, now: datetime) -> int:
        door = self.of(room)
        door.present = {k: until for k, until in door.present.items() if until is None or until > now}
        return len(door.present)

    def hold_seat(self, room: SfuRoomName, participant_id: str, now: datetime) -> None:
        self.of(room).present.setdefault(participant_id, now + timedelta(seconds=SEAT_HOLD_SECONDS))

    def lift(self, room: SfuRoomName, participant_id: str) -> None:
        door = self.of(room)
        member = door.held.pop(participant_id, None)
        if member is not None:
            door.held.pop(member, None)

    def shut(self, room: SfuRoomName, gate: KnockGate, now: datetime, *, direct: bool) -> DoorRefusal | None:
        """Why the door keeps a newcomer out (see ``lua/prelude.lua``'s ``shut``); an admin reopens."""
        door = self.of(room)
        if gate.admin:
            return None
        if self.ended(room, now):
            return DoorRefusal.ENDED
        if door.locked:
            return DoorRefusal.LOCKED
        if not direct:
            return None
        if any(identity in door.held for identity in gate.identities):
            return DoorRefusal.SENT_BACK
        if 0 < gate.capacity <= self.taken(room, now) and not any(i in door.present for i in gate.identities):
            return DoorRefusal.FULL
        return None

    def state(self, room: SfuRoomName, identities: tuple[str, ...] | frozenset[str], now: datetime) -> DoorState:
        door = self.of(room)
        ended_until = door.ended_until
        return DoorState(
            locked=door.locked,
            ended_until_ms=int(ended_until.timestamp() * 1000) if ended_until else 0,
            taken=self.taken(room, now),
            suspended=frozenset(i for i in identities if i in door.held),
            inside=frozenset(i for i in identities if i in door.present),
        )

    def forget(self, room: SfuRoomName) -> None:
        """The meeting finished: the count, the send-backs and the lock go (a grace period stays)."""
        door = self.of(room)
        door.present.clear()
        door.held.clear()
        door.locked = False


class MemoryRoomDoor:
    """``RoomDoor`` on the memory lobby store's rooms (each method one step, as a Redis script)."""

    def __init__(self, store: MemoryLobbyStore) -> None:
        self._store = store

    async def lock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        return self._store.lock(room, locked=True, by=by, now=now)

    async def unlock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        return self._store.lock(room, locked=False, by=by, now=now)

    async def end(self, room: SfuRoomName, *, by: str, now: datetime, grace_seconds: int) -> int:
        return self._store.end(room, by=by, now=now, until=now + timedelta(seconds=grace_seconds))

    async def reopen(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        return self._store.reopen(room, by=by, now=now)

    async def send_back(
        self, room: SfuRoomName, identity: str, *, by: str, now: datetime, waiting_seconds: int, room_seconds: int
    ) -> SentBack:
        del room_seconds  # memory keeps a room's lobby as long as the process
        guest = self._store.send_back(room, identity, by=by, now=now, waiting_seconds=waiting_seconds)
        return SentBack(identity, participant_id=identity if guest else None)

    async def joined(self, room: SfuRoomName, identity: str) -> bool:
        return self._store.joined(room, identity)

    async def left(self, room: SfuRoomName, identity: str) -> None:
        self._store.doors.of(room).present.pop(identity, None)

    async def finished(self, room: SfuRoomName) -> None:
        self._store.doors.forget(room)
