from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.rooms.lookup import RoomLocator, RoomPolicy
from meet.domain.rooms.model import Role, Room, RoomAccess
from meet.domain.users.model import User, Viewer
from tests.doubles.rooms import (
    MemoryDatabase,
    MemoryReader,
    MemoryRoomAccessRepository,
    MemoryRoomRepository,
    MemoryUnitOfWork,
    MemoryUserRepository,
)


@dataclass
class World:
    """One in-memory database, seen through the write path (repositories, unit of work) and the read models."""

    db: MemoryDatabase
    users: MemoryUserRepository
    rooms: MemoryRoomRepository
    accesses: MemoryRoomAccessRepository
    uow: MemoryUnitOfWork
    reader: MemoryReader
    stamps: MemoryRoomStamps = field(default_factory=MemoryRoomStamps)

    def locator(self, *, allow_temporary_rooms: bool = True) -> RoomLocator:
        return RoomLocator(self.reader, RoomPolicy(allow_temporary_rooms=allow_temporary_rooms))

    async def user(self, sub: str, email: str | None = None) -> Viewer:
        user = await self.users.add(User(id=uuid.uuid4(), sub=sub, email=email, full_name=sub.title()))
        return Viewer.of(user)

    async def room(self, name: str = "Room", **members: Role) -> Room:
        room = await self.rooms.add(Room.create(name))
        for sub, role in members.items():
            user = await self.users.get_by_sub(sub)
            assert user is not None
            await self.accesses.add(RoomAccess.grant(room.id, user.id, role))
        return room


@pytest.fixture
def world() -> World:
    db = MemoryDatabase()
    return World(
        db=db,
        users=MemoryUserRepository(db),
        rooms=MemoryRoomRepository(db),
        accesses=MemoryRoomAccessRepository(db),
        uow=MemoryUnitOfWork(db),
        reader=MemoryReader(db),
    )
