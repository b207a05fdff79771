"""Users, rooms, accesses and recordings in memory: same contracts as the SQL adapters, for unit tests."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from meet.domain.recordings.errors import RecordingInProgress
from meet.domain.recordings.model import Recording
from meet.domain.rooms.errors import AccessAlreadyExists, RoomNotFound, RoomSlugTaken
from meet.domain.rooms.model import Role, Room, RoomAccess, RoomDefaults
from meet.domain.shared.events import Action, RoomEvent
from meet.domain.users.model import User


@dataclass
class MemoryDatabase:
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    rooms: dict[uuid.UUID, Room] = field(default_factory=dict)
    accesses: dict[uuid.UUID, RoomAccess] = field(default_factory=dict)
    recordings: dict[uuid.UUID, Recording] = field(default_factory=dict)
    events: list[RoomEvent] = field(default_factory=list)
    room_defaults: dict[uuid.UUID, RoomDefaults] = field(default_factory=dict)
    commits: int = 0

    def tables(self) -> tuple[dict[uuid.UUID, Any], ...]:
        return self.users, self.rooms, self.accesses, self.recordings, self.room_defaults


def _now() -> datetime:
    return datetime.now(UTC)


class MemoryUserRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get(self, user_id: uuid.UUID) -> User | None:
        return copy.copy(self._db.users.get(user_id))

    async def get_by_sub(self, sub: str) -> User | None:
        return next((copy.copy(u) for u in self._db.users.values() if u.sub == sub), None)

    async def get_by_email(self, email: str) -> User | None:
        return next((copy.copy(u) for u in self._db.users.values() if email and u.email == email), None)

    async def add(self, user: User) -> User:
        user.created_at = user.created_at or _now()
        self._db.users[user.id] = copy.copy(user)
        return user

    async def update(self, user: User) -> User:
        self._db.users[user.id] = copy.copy(user)
        return user


class MemoryRoomRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get(self, room_id: uuid.UUID) -> Room | None:
        return copy.copy(self._db.rooms.get(room_id))

    async def add(self, room: Room) -> Room:
        self._refuse_taken_slug(room)
        room.created_at = room.updated_at = _now()
        self._db.rooms[room.id] = copy.copy(room)
        return room

    async def update(self, room: Room) -> Room:
        if room.id not in self._db.rooms:
            raise RoomNotFound
        self._refuse_taken_slug(room)
        room.updated_at = _now()
        self._db.rooms[room.id] = copy.copy(room)
        return room

    async def delete(self, room_id: uuid.UUID) -> None:
        self._db.rooms.pop(room_id, None)
        for access_id in [a.id for a in self._db.accesses.values() if a.room_id == room_id]:
            del self._db.accesses[access_id]

    def _refuse_taken_slug(self, room: Room) -> None:
        if any(other.slug == room.slug and other.id != room.id for other in self._db.rooms.values()):
            raise RoomSlugTaken


class MemoryRoomAccessRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get(self, access_id: uuid.UUID) -> RoomAccess | None:
        return copy.copy(self._db.accesses.get(access_id))

    async def get_for_user(self, room_id: uuid.UUID, user_id: uuid.UUID) -> RoomAccess | None:
        return next(
            (copy.copy(a) for a in self._db.accesses.values() if (a.room_id, a.user_id) == (room_id, user_id)),
            None,
        )

    async def list_for_room(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        return [copy.copy(a) for a in self._db.accesses.values() if a.room_id == room_id]

    async def count_owners(self, room_id: uuid.UUID) -> int:
        return sum(1 for a in self._db.accesses.values() if a.room_id == room_id and a.role is Role.OWNER)

    async def add(self, access: RoomAccess) -> RoomAccess:
        if await self.get_for_user(access.room_id, access.user_id):
            raise AccessAlreadyExists
        access.created_at = _now()
        self._db.accesses[access.id] = copy.copy(access)
        return access

    async def update(self, access: RoomAccess) -> RoomAccess:
        self._db.accesses[access.id] = copy.copy(access)
        return access

    async def delete(self, access_id: uuid.UUID) -> None:
        self._db.accesses.pop(access_id, None)


class MemoryRecordingRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get(self, recording_id: uuid.UUID) -> Recording | None:
        return copy.copy(self._db.recordings.get(recording_id))

    async def get_by_egress_id(self, egress_id: str) -> Recording | None:
        return next((copy.copy(r) for r in self._db.recordings.values() if r.egress_id == egress_id), None)

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        return next(
            (copy.copy(r) for r in self._db.recordings.values() if r.room_id == room_id and r.status.is_ongoing),
            None,
        )

    async def add(self, recording: Recording) -> Recording:
        if recording.status.is_ongoing and await self.ongoing_in_room(recording.room_id):
            raise RecordingInProgress
        self._db.recordings[recording.id] = copy.copy(recording)
        return recording

    async def update(self, recording: Recording) -> Recording:
        self._db.recordings[recording.id] = copy.copy(recording)
        return recording

    async def delete(self, recording_id: uuid.UUID) -> None:
        self._db.recordings.pop(recording_id, None)

    async def list_in_room(self, room_id: uuid.UUID) -> Sequence[Recording]:
        return [copy.copy(r) for r in self._db.recordings.values() if r.room_id == room_id]


class MemoryAuditLog:
    """Events in the order they were appended (the chain itself is the SQL adapter's, tested there)."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def append(self, event: RoomEvent) -> None:
        self._db.events.append(event)

    async def append_many(self, events: Sequence[RoomEvent]) -> None:
        self._db.events.extend(events)

    def actions(self, room_id: uuid.UUID | None = None) -> list[Action]:
        return [event.action for event in self._db.events if room_id is None or event.room_id == room_id]


class MemoryRoomDefaultsRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def get(self, user_id: uuid.UUID) -> RoomDefaults:
        return self._db.room_defaults.get(user_id, RoomDefaults())

    async def set(self, user_id: uuid.UUID, defaults: RoomDefaults) -> None:
        self._db.room_defaults[user_id] = defaults


@dataclass(frozen=True)
class MemoryTransaction:
    users: MemoryUserRepository
    rooms: MemoryRoomRepository
    accesses: MemoryRoomAccessRepository
    recordings: MemoryRecordingRepository
    audit: MemoryAuditLog
    room_defaults: MemoryRoomDefaultsRepository


class MemoryUnitOfWork:
    """Changes apply at once; a block that raises puts every table back as it was. Commits are counted."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[MemoryTransaction]:
        before = [dict(table) for table in self._db.tables()]
        events = len(self._db.events)
        try:
            yield MemoryTransaction(
                users=MemoryUserRepository(self._db),
                rooms=MemoryRoomRepository(self._db),
                accesses=MemoryRoomAccessRepository(self._db),
                recordings=MemoryRecordingRepository(self._db),
                audit=MemoryAuditLog(self._db),
                room_defaults=MemoryRoomDefaultsRepository(self._db),
            )
        except BaseException:
            for table, saved in zip(self._db.tables(), before, strict=True):
                table.clear()
                table.update(saved)
            del self._db.events[events:]
            raise
        self._db.commits += 1


class MemoryReader:
    """The read models (rooms, users, recordings) over the same memory."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def room(self, room_id: uuid.UUID) -> Room | None:
        return copy.copy(self._db.rooms.get(room_id))

    async def room_by_slug(self, slug: str) -> Room | None:
        return next((copy.copy(r) for r in self._db.rooms.values() if r.slug == slug), None)

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        access = await MemoryRoomAccessRepository(self._db).get_for_user(room_id, user_id)
        return access.role if access else None

    async def rooms_of(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[tuple[Room, Role]], int]:
        mine = [(self._db.rooms[a.room_id], a.role) for a in self._db.accesses.values() if a.user_id == user_id]
        mine.sort(key=lambda pair: pair[0].created_at or _now(), reverse=True)
        return [(copy.copy(room), role) for room, role in mine[offset : offset + limit]], len(mine)

    async def accesses_of(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        return await MemoryRoomAccessRepository(self._db).list_for_room(room_id)

    async def user(self, user_id: uuid.UUID) -> User | None:
        return copy.copy(self._db.users.get(user_id))

    async def user_by_sub(self, sub: str) -> User | None:
        return next((copy.copy(u) for u in self._db.users.values() if u.sub == sub), None)

    async def recording(self, recording_id: uuid.UUID) -> Recording | None:
        return copy.copy(self._db.recordings.get(recording_id))

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        return await MemoryRecordingRepository(self._db).ongoing_in_room(room_id)

    async def administered_by(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[Recording], int]:
        rooms = {a.room_id for a in self._db.accesses.values() if a.user_id == user_id and a.role.is_admin}
        mine = [r for r in self._db.recordings.values() if r.room_id in rooms]
        mine.sort(key=lambda r: (r.created_at is not None, r.created_at), reverse=True)
        return [copy.copy(r) for r in mine[offset : offset + limit]], len(mine)
