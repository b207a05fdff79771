"""The recording repository (advanced-alchemy) and its own-transaction factory for SFU events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import RoomAccessModel
from meet.adapters.sqlalchemy.recording_models import RecordingModel
from meet.adapters.sqlalchemy.repositories import SqlaRoomRepository, SqlaUnitOfWork
from meet.domain.recordings.errors import RecordingInProgress
from meet.domain.recordings.model import Recording, RecordingMode, RecordingOptions, RecordingStatus
from meet.domain.recordings.ports import RecordingTransaction
from meet.domain.rooms.model import Role

_ADMIN_ROLES = (Role.OWNER.value, Role.ADMINISTRATOR.value)


def _options_to_json(options: RecordingOptions) -> dict[str, Any]:
    return {"language": options.language} if options.language is not None else {}


def _options_from_json(data: dict[str, Any] | None) -> RecordingOptions:
    language = (data or {}).get("language")
    return RecordingOptions(language=str(language) if language is not None else None)


def recording_from_row(row: RecordingModel) -> Recording:
    return Recording(
        id=row.id,
        room_id=row.room_id,
        mode=RecordingMode(row.mode),
        created_by=row.created_by,
        status=RecordingStatus(row.status),
        egress_id=row.egress_id,
        options=_options_from_json(row.options),
        created_at=row.created_at,
        saved_at=row.saved_at,
        expires_at=row.expires_at,
    )


def _copy_to_row(recording: Recording, row: RecordingModel) -> None:
    row.status = recording.status.value
    row.egress_id = recording.egress_id
    row.options = _options_to_json(recording.options)
    row.saved_at = recording.saved_at
    row.expires_at = recording.expires_at


class _RecordingRows(SQLAlchemyAsyncRepository[RecordingModel]):
    model_type = RecordingModel


class SqlaRecordingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = _RecordingRows(session=session, wrap_exceptions=False)

    async def get(self, recording_id: uuid.UUID) -> Recording | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(id=recording_id)
        return recording_from_row(row) if row else None

    async def get_by_egress_id(self, egress_id: str) -> Recording | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(egress_id=egress_id)
        return recording_from_row(row) if row else None

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        query = select(RecordingModel).where(
            RecordingModel.room_id == room_id,
            RecordingModel.status.in_(("initiated", "active")),
        )
        async with database_errors():
            row = (await self._session.execute(query)).scalars().first()
        return recording_from_row(row) if row else None

    async def add(self, recording: Recording) -> Recording:
        row = RecordingModel(
            id=recording.id,
            room_id=recording.room_id,
            mode=recording.mode.value,
            created_by=recording.created_by,
        )
        if recording.created_at is not None:
            row.created_at = recording.created_at
        _copy_to_row(recording, row)
        try:
            async with database_errors():
                row = await self._rows.add(row)
        except IntegrityError as error:
            # The partial unique index: another ongoing recording in this room won the race.
            await self._session.rollback()
            raise RecordingInProgress from error
        return recording_from_row(row)

    async def update(self, recording: Recording) -> Recording:
        async with database_errors():
            row = await self._rows.get_one(id=recording.id)
            _copy_to_row(recording, row)
            row = await self._rows.update(row)
        return recording_from_row(row)

    async def delete(self, recording_id: uuid.UUID) -> None:
        async with database_errors():
            await self._session.execute(delete(RecordingModel).where(RecordingModel.id == recording_id))

    async def list_in_room(self, room_id: uuid.UUID) -> Sequence[Recording]:
        query = select(RecordingModel).where(RecordingModel.room_id == room_id)
        async with database_errors():
            rows = (await self._session.execute(query)).scalars().all()
        return [recording_from_row(row) for row in rows]

    async def list_administered_by(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Recording], int]:
        administered = (
            select(RoomAccessModel.room_id)
            .where(RoomAccessModel.user_id == user_id, RoomAccessModel.role.in_(_ADMIN_ROLES))
            .scalar_subquery()
        )
        mine = RecordingModel.room_id.in_(administered)
        query = (
            select(RecordingModel)
            .where(mine)
            .order_by(RecordingModel.created_at.desc(), RecordingModel.id)
            .limit(limit)
            .offset(offset)
        )
        count = select(func.count()).select_from(RecordingModel).where(mine)
        async with database_errors():
            rows = (await self._session.execute(query)).scalars().all()
            total = (await self._session.execute(count)).scalar_one()
        return [recording_from_row(row) for row in rows], total


class SqlaRecordingTransactions:
    """A session of its own per ``open()``: for SFU events, which outlive no request."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def open(self) -> AsyncIterator[RecordingTransaction]:
        async with self._sessions() as session:
            yield RecordingTransaction(
                recordings=SqlaRecordingRepository(session),
                rooms=SqlaRoomRepository(session),
                uow=SqlaUnitOfWork(session),
            )
