"""The one write path: a transaction per ``begin()``, owning the repositories of every context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from meet.adapters.sqlalchemy.audit import SqlaAuditLog
from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.recordings import SqlaRecordingRepository
from meet.adapters.sqlalchemy.repositories import (
    SqlaRoomAccessRepository,
    SqlaRoomDefaultsRepository,
    SqlaRoomRepository,
    SqlaUserRepository,
)


@dataclass(frozen=True, slots=True)
class SqlaTransaction:
    users: SqlaUserRepository
    rooms: SqlaRoomRepository
    accesses: SqlaRoomAccessRepository
    recordings: SqlaRecordingRepository
    room_defaults: SqlaRoomDefaultsRepository
    audit: SqlaAuditLog

    @classmethod
    def on(cls, session: AsyncSession) -> SqlaTransaction:
        return cls(
            users=SqlaUserRepository(session),
            rooms=SqlaRoomRepository(session),
            accesses=SqlaRoomAccessRepository(session),
            recordings=SqlaRecordingRepository(session),
            room_defaults=SqlaRoomDefaultsRepository(session),
            audit=SqlaAuditLog(session),
        )


class SqlaUnitOfWork:
    """``async with uow.begin() as tx``: one session, committed when the block ends, rolled back (and the
    connection given back) when it raises. Nothing holds a connection outside such a block."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SqlaTransaction]:
        async with self._sessions() as session:
            yield SqlaTransaction.on(session)
            async with database_errors():
                await session.commit()
