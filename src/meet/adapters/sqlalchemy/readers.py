"""The read models on SQLAlchemy, for any database it drives: each question in its own autocommit
session (no BEGIN/ROLLBACK around a single SELECT), outside any unit of work."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meet.adapters.sql.rows import (
    access_from_row,
    recording_from_row,
    room_defaults_from_row,
    room_from_row,
    user_from_row,
)
from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import RoomAccessModel, RoomModel, UserModel, as_row
from meet.adapters.sqlalchemy.recording_models import RecordingModel
from meet.adapters.sqlalchemy.recordings import administered_by, ongoing_in_room
from meet.domain.recordings.model import Recording
from meet.domain.rooms.model import Role, Room, RoomAccess, RoomDefaults
from meet.domain.users.model import User


class _Reads:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session, database_errors():
            yield session


class SqlaRoomReader(_Reads):
    async def room(self, room_id: uuid.UUID) -> Room | None:
        async with self._session() as session:
            row = await session.get(RoomModel, room_id)
        return room_from_row(as_row(row)) if row else None

    async def room_by_slug(self, slug: str) -> Room | None:
        async with self._session() as session:
            row = (await session.execute(select(RoomModel).where(RoomModel.slug == slug))).scalar_one_or_none()
        return room_from_row(as_row(row)) if row else None

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        query = select(RoomAccessModel.role).where(
            RoomAccessModel.room_id == room_id, RoomAccessModel.user_id == user_id
        )
        async with self._session() as session:
            role = (await session.execute(query)).scalar_one_or_none()
        return Role(role) if role else None

    async def rooms_of(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[tuple[Room, Role]], int]:
        mine = RoomAccessModel.user_id == user_id
        query = (
            select(RoomModel, RoomAccessModel.role)
            .join(RoomAccessModel, RoomAccessModel.room_id == RoomModel.id)
            .where(mine)
            .order_by(RoomModel.created_at.desc(), RoomModel.id)
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(RoomAccessModel).where(mine)
        async with self._session() as session:
            rows = (await session.execute(query)).all()
            total = (await session.execute(count)).scalar_one()
        return [(room_from_row(as_row(room)), Role(role)) for room, role in rows], total

    async def accesses_of(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        query = select(RoomAccessModel).where(RoomAccessModel.room_id == room_id).order_by(RoomAccessModel.created_at)
        async with self._session() as session:
            rows = (await session.execute(query)).scalars().all()
        return [access_from_row(as_row(row)) for row in rows]


class SqlaUserReader(_Reads):
    async def user(self, user_id: uuid.UUID) -> User | None:
        async with self._session() as session:
            row = await session.get(UserModel, user_id)
        return user_from_row(as_row(row)) if row else None


class SqlaProfileReader(_Reads):
    async def profile(self, user_id: uuid.UUID) -> tuple[User, RoomDefaults] | None:
        async with self._session() as session:
            row = await session.get(UserModel, user_id)
        return (user_from_row(as_row(row)), room_defaults_from_row(as_row(row))) if row else None


class SqlaRecordingReader(_Reads):
    async def recording(self, recording_id: uuid.UUID) -> Recording | None:
        async with self._session() as session:
            row = await session.get(RecordingModel, recording_id)
        return recording_from_row(as_row(row)) if row else None

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        async with self._session() as session:
            row = (await session.execute(ongoing_in_room(room_id))).scalars().first()
        return recording_from_row(as_row(row)) if row else None

    async def administered_by(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[Recording], int]:
        async with self._session() as session:
            return await administered_by(session, user_id, limit=limit, offset=offset)
