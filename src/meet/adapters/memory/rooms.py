"""In-memory users, rooms and accesses: for unit tests of the domain, same contracts as SQL."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from meet.domain.rooms.errors import AccessAlreadyExists, RoomSlugTaken
from meet.domain.rooms.model import Role, Room, RoomAccess
from meet.domain.users.model import User


@dataclass
class MemoryDatabase:
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    rooms: dict[uuid.UUID, Room] = field(default_factory=dict)
    accesses: dict[uuid.UUID, RoomAccess] = field(default_factory=dict)
    commits: int = 0


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

    async def get_by_slug(self, slug: str) -> Room | None:
        return next((copy.copy(r) for r in self._db.rooms.values() if r.slug == slug), None)

    async def add(self, room: Room) -> Room:
        self._refuse_taken_slug(room)
        room.created_at = room.updated_at = _now()
        self._db.rooms[room.id] = copy.copy(room)
        return room

    async def update(self, room: Room) -> Room:
        self._refuse_taken_slug(room)
        room.updated_at = _now()
        self._db.rooms[room.id] = copy.copy(room)
        return room

    async def delete(self, room_id: uuid.UUID) -> None:
        self._db.rooms.pop(room_id, None)
        for access_id in [a.id for a in self._db.accesses.values() if a.room_id == room_id]:
            del self._db.accesses[access_id]

    async def list_for_user(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[tuple[Room, Role]], int]:
        mine = [(self._db.rooms[a.room_id], a.role) for a in self._db.accesses.values() if a.user_id == user_id]
        mine.sort(key=lambda pair: pair[0].created_at or _now(), reverse=True)
        return [(copy.copy(room), role) for room, role in mine[offset : offset + limit]], len(mine)

    def _refuse_taken_slug(self, room: Room) -> None:
        if any(other.slug == room.slug and other.id != room.id for other in self._db.rooms.values()):
            raise RoomSlugTaken


class MemoryRoomAccessRepository:
    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        access = await self.get_for_user(room_id, user_id)
        return access.role if access else None

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


class MemoryUnitOfWork:
    """Changes apply immediately in memory; commits are counted so tests can see them."""

    def __init__(self, db: MemoryDatabase) -> None:
        self._db = db

    async def commit(self) -> None:
        self._db.commits += 1

    async def rollback(self) -> None:
        return None
