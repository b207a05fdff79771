"""The recording repository (advanced-alchemy), and the queries its reader shares."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from meet.adapters.sql.rows import options_to_json, recording_from_row
from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import RoomAccessModel, as_row
from meet.adapters.sqlalchemy.recording_models import RecordingModel
from meet.domain.recordings.errors import RecordingInProgress
from meet.domain.recordings.model import ONGOING, Recording
from meet.domain.rooms.model import ADMIN_ROLES


def ongoing_in_room(room_id: uuid.UUID) -> Select[RecordingModel]:
    return select(RecordingModel).where(
        RecordingModel.room_id == room_id, RecordingModel.status.in_([status.value for status in ONGOING])
    )


async def administered_by(
    session: AsyncSession, user_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[Sequence[Recording], int]:
    """One page and one count: recordings of the rooms the user owns or administers, newest first."""
    administered = (
        select(RoomAccessModel.room_id)
        .where(RoomAccessModel.user_id == user_id, RoomAccessModel.role.in_([role.value for role in ADMIN_ROLES]))
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
        rows = (await session.execute(query)).scalars().all()
        total = (await session.execute(count)).scalar_one()
    return [recording_from_row(as_row(row)) for row in rows], total


def _copy_to_row(recording: Recording, row: RecordingModel) -> None:
    row.status = recording.status.value
    row.egress_id = recording.egress_id
    row.options = options_to_json(recording.options)
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
        return recording_from_row(as_row(row)) if row else None

    async def get_by_egress_id(self, egress_id: str) -> Recording | None:
        async with database_errors():
            row = await self._rows.get_one_or_none(egress_id=egress_id)
        return recording_from_row(as_row(row)) if row else None

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        async with database_errors():
            row = (await self._session.execute(ongoing_in_room(room_id))).scalars().first()
        return recording_from_row(as_row(row)) if row else None

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
        return recording_from_row(as_row(row))

    async def update(self, recording: Recording) -> Recording:
        async with database_errors():
            row = await self._rows.get_one(id=recording.id)
            _copy_to_row(recording, row)
            row = await self._rows.update(row)
        return recording_from_row(as_row(row))

    async def delete(self, recording_id: uuid.UUID) -> None:
        async with database_errors():
            await self._session.execute(delete(RecordingModel).where(RecordingModel.id == recording_id))

    async def list_in_room(self, room_id: uuid.UUID) -> Sequence[Recording]:
        query = select(RecordingModel).where(RecordingModel.room_id == room_id)
        async with database_errors():
            rows = (await self._session.execute(query)).scalars().all()
        return [recording_from_row(as_row(row)) for row in rows]
