"""Recordings in memory, for unit tests of the domain: same contracts as the SQL repository."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from meet.adapters.memory.rooms import MemoryDatabase, MemoryRoomRepository, MemoryUnitOfWork
from meet.domain.recordings.errors import RecordingInProgress
from meet.domain.recordings.model import Recording
from meet.domain.recordings.ports import RecordingTransaction


class MemoryRecordingRepository:
    def __init__(self, db: MemoryDatabase, recordings: dict[uuid.UUID, Recording]) -> None:
        self._db = db
        self._recordings = recordings

    async def get(self, recording_id: uuid.UUID) -> Recording | None:
        return copy.copy(self._recordings.get(recording_id))

    async def get_by_egress_id(self, egress_id: str) -> Recording | None:
        return next((copy.copy(r) for r in self._recordings.values() if r.egress_id == egress_id), None)

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None:
        return next(
            (copy.copy(r) for r in self._recordings.values() if r.room_id == room_id and r.status.is_ongoing), None
        )

    async def add(self, recording: Recording) -> Recording:
        if recording.status.is_ongoing and await self.ongoing_in_room(recording.room_id):
            raise RecordingInProgress
        self._recordings[recording.id] = copy.copy(recording)
        return recording

    async def update(self, recording: Recording) -> Recording:
        self._recordings[recording.id] = copy.copy(recording)
        return recording

    async def delete(self, recording_id: uuid.UUID) -> None:
        self._recordings.pop(recording_id, None)

    async def list_in_room(self, room_id: uuid.UUID) -> Sequence[Recording]:
        return [copy.copy(r) for r in self._recordings.values() if r.room_id == room_id]

    async def list_administered_by(
        self, user_id: uuid.UUID, *, limit: int, offset: int
    ) -> tuple[Sequence[Recording], int]:
        rooms = {a.room_id for a in self._db.accesses.values() if a.user_id == user_id and a.role.is_admin}
        mine = [r for r in self._recordings.values() if r.room_id in rooms]
        mine.sort(key=lambda r: (r.created_at is not None, r.created_at), reverse=True)
        return [copy.copy(r) for r in mine[offset : offset + limit]], len(mine)


class MemoryRecordingTransactions:
    def __init__(self, db: MemoryDatabase, recordings: dict[uuid.UUID, Recording]) -> None:
        self._db = db
        self._recordings = recordings

    @asynccontextmanager
    async def open(self) -> AsyncIterator[RecordingTransaction]:
        yield RecordingTransaction(
            recordings=MemoryRecordingRepository(self._db, self._recordings),
            rooms=MemoryRoomRepository(self._db),
            uow=MemoryUnitOfWork(self._db),
        )
