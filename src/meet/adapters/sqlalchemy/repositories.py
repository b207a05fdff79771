"""advanced-alchemy repositories behind the domain's repository ports, inside one transaction's session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meet.adapters.sql.rows import (
    access_from_row,
    configuration_to_json,
    room_defaults_from_row,
    room_from_row,
    user_from_row,
)
from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import RoomAccessModel, RoomModel, UserModel, as_row
from meet.domain.rooms.errors import AccessAlreadyExists, RoomNotFound, RoomSlugTaken
from meet.domain.rooms.model import Role, Room, RoomAccess, RoomDefaults
from meet.domain.shared.errors import DomainError
from meet.domain.users.model import User


@asynccontextmanager
async def unique(session: AsyncSession, violation: type[DomainError]) -> AsyncIterator[None]:
    """Translate a unique-constraint violation into ``violation``, leaving the session usable."""
    try:
        async with database_errors():
            yield
    except IntegrityError as error:
        await session.rollback()
        raise violation from error


class _UserRows(SQLAlchemyAsyncRepository[UserModel]):
    model_type = UserModel


class SqlaRoomDefaultsRepository:
    """The room defaults live on the user's row."""

    def __init__(self, session: AsyncSession) -> None:
        self._rows = _UserRows(session=session, wrap_exceptions=False)

    async def get(self, user_id: uuid.UUID) -> RoomDefaults:
        async with database_errors():
            row = await self._rows.get_one_or_none(id=user_id)
        return room_defaults_from_row(as_row(row)) if row else RoomDefaults()

    async def set(self, user_id: uuid.UUID, defaults: RoomDefaults) -> None:
        async with database_errors():
            row = await self._rows.get_one(id=user_id)
            row.default_room_access_level = defaults.access_level.value if defaults.access_level else None
            configuration = defaults.configuration
            row.default_room_configuration = None if configuration is None else configuration_to_json(configuration)
            await self._rows.update(row)


class _RoomRows(SQLAlchemyAsyncRepository[RoomModel]):
    model_type = RoomModel


class _AccessRows(SQLAlchemyAsyncRepository[RoomAccessModel]):
    model_type = RoomAccessModel


class SqlaUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._rows = _UserRows(session=session, wrap_exceptions=False)

    async def get(self, user_id: uuid.UUID) -> User | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(id=user_id)
        return user_from_row(as_row(row)) if row else None

    async def get_by_sub(self, sub: str) -> User | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(sub=sub)
        return user_from_row(as_row(row)) if row else None

    async def get_by_email(self, email: str) -> User | None:
        async with database_errors():
            rows = await self._rows.get_many(UserModel.email == email, LimitOffset(limit=1, offset=0)) if email else []
        return user_from_row(as_row(rows[0])) if rows else None

    async def add(self, user: User) -> User:
        row = UserModel(
            id=user.id,
            sub=user.sub,
            email=user.email,
            full_name=user.full_name,
            short_name=user.short_name,
            language=user.language,
            timezone=user.timezone,
        )
        async with database_errors():
            row = await self._rows.add(row)
        return user_from_row(as_row(row))

    async def update(self, user: User) -> User:
        async with database_errors():
            row = await self._rows.get_one(id=user.id)
            row.email, row.full_name = user.email, user.full_name
            row.short_name, row.language, row.timezone = user.short_name, user.language, user.timezone
            row = await self._rows.update(row)
        return user_from_row(as_row(row))


class SqlaRoomRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = _RoomRows(session=session, wrap_exceptions=False)

    async def get(self, room_id: uuid.UUID) -> Room | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(id=room_id)
        return room_from_row(as_row(row)) if row else None

    async def add(self, room: Room) -> Room:
        row = RoomModel(
            id=room.id,
            name=room.name,
            slug=room.slug,
            access_level=room.access_level.value,
            configuration=configuration_to_json(room.configuration),
        )
        async with unique(self._session, RoomSlugTaken):
            row = await self._rows.add(row)
        return room_from_row(as_row(row))

    async def update(self, room: Room) -> Room:
        async with unique(self._session, RoomSlugTaken):
            row = await self._rows.get_one_or_none(id=room.id)
            if row is None:
                raise RoomNotFound
            row.name, row.slug = room.name, room.slug
            row.access_level = room.access_level.value
            row.configuration = configuration_to_json(room.configuration)
            row = await self._rows.update(row)
        return room_from_row(as_row(row))

    async def delete(self, room_id: uuid.UUID) -> None:
        async with database_errors():
            await self._session.execute(delete(RoomAccessModel).where(RoomAccessModel.room_id == room_id))
            await self._session.execute(delete(RoomModel).where(RoomModel.id == room_id))


class SqlaRoomAccessRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = _AccessRows(session=session, wrap_exceptions=False)

    async def get(self, access_id: uuid.UUID) -> RoomAccess | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(id=access_id)
        return access_from_row(as_row(row)) if row else None

    async def get_for_user(self, room_id: uuid.UUID, user_id: uuid.UUID) -> RoomAccess | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(room_id=room_id, user_id=user_id)
        return access_from_row(as_row(row)) if row else None

    async def list_for_room(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        async with database_errors():
            rows = await self._rows.get_many(
                RoomAccessModel.room_id == room_id, order_by=[RoomAccessModel.created_at.asc()]
            )
        return [access_from_row(as_row(row)) for row in rows]

    async def count_owners(self, room_id: uuid.UUID) -> int:
        async with database_errors():
            return await self._rows.count(RoomAccessModel.room_id == room_id, RoomAccessModel.role == Role.OWNER.value)

    async def add(self, access: RoomAccess) -> RoomAccess:
        row = RoomAccessModel(id=access.id, room_id=access.room_id, user_id=access.user_id, role=access.role.value)
        async with unique(self._session, AccessAlreadyExists):
            row = await self._rows.add(row)
        return access_from_row(as_row(row))

    async def update(self, access: RoomAccess) -> RoomAccess:
        async with database_errors():
            row = await self._rows.get_one(id=access.id)
            row.role = access.role.value
            row = await self._rows.update(row)
        return access_from_row(as_row(row))

    async def delete(self, access_id: uuid.UUID) -> None:
        async with database_errors():
            await self._session.execute(delete(RoomAccessModel).where(RoomAccessModel.id == access_id))
