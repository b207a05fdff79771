"""The database: SQLAlchemy for the one write path (and generic reads), asyncpg for the room reads on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from dishka import AnyOf, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from meet.adapters.asyncpg.pool import read_pool_for
from meet.adapters.asyncpg.rooms import AsyncpgRoomReader
from meet.adapters.sqlalchemy.applications import SqlApplicationRegistry
from meet.adapters.sqlalchemy.audit import SqlaAuditReader, SqlaStandaloneAuditLog
from meet.adapters.sqlalchemy.bars import SqlRoomBars
from meet.adapters.sqlalchemy.database import (
    DatabaseHealth,
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from meet.adapters.sqlalchemy.migrate import MigrationHealth
from meet.adapters.sqlalchemy.readers import SqlaProfileReader, SqlaRecordingReader, SqlaRoomReader, SqlaUserReader
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.applications.ports import ApplicationRegistry
from meet.domain.audit.ports import AuditReader
from meet.domain.recordings.ports import RecordingReader, RecordingUnitOfWork
from meet.domain.rooms.ports import ProfileReader, RoomReader, RoomUnitOfWork
from meet.domain.shared.events import AuditLog, AuditUnitOfWork
from meet.domain.users.ports import UserReader, UserUnitOfWork
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class ReadSessions:
    """Autocommit sessions for the read models: a type of its own, so they never serve a write."""

    factory: async_sessionmaker[AsyncSession]


class SqlaDatabaseProvider(BackendProvider):
    """One engine per process; every write through one unit of work; user and recording reads."""

    health_checks = (DatabaseHealth,)
    deployment_checks = (MigrationHealth,)

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        # Behind PgBouncer (transaction pooling) nothing may outlive a transaction: see create_engine.
        engine = create_engine(
            settings.database, pool_size=settings.database_pool_size, pgbouncer=settings.database_pgbouncer
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def durable_bars(self, engine: AsyncEngine) -> SqlRoomBars:
        """The durable ``RoomBars``; the stores put their cache in front of it (see stores.py)."""
        return SqlRoomBars(engine)

    @provide(scope=Scope.APP)
    def applications(self, engine: AsyncEngine) -> ApplicationRegistry:
        return SqlApplicationRegistry(engine)

    @provide(scope=Scope.APP)
    def write_sessions(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    @provide(scope=Scope.APP)
    def read_sessions(self, engine: AsyncEngine, settings: Settings) -> ReadSessions:
        return ReadSessions(create_read_session_factory(engine, pgbouncer=settings.database_pgbouncer))

    @provide(scope=Scope.APP)
    def unit_of_work(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> AnyOf[SqlaUnitOfWork, RoomUnitOfWork, RecordingUnitOfWork, UserUnitOfWork, AuditUnitOfWork]:
        return SqlaUnitOfWork(sessions)

    @provide(scope=Scope.APP)
    def audit_log(self, uow: SqlaUnitOfWork) -> AuditLog:
        """For changes that took effect outside the database (in the SFU): each event in its own transaction."""
        return SqlaStandaloneAuditLog(uow)

    @provide(scope=Scope.APP)
    def audit_reader(self, sessions: ReadSessions) -> AuditReader:
        return SqlaAuditReader(sessions.factory)

    @provide(scope=Scope.APP)
    def users(self, sessions: ReadSessions) -> UserReader:
        return SqlaUserReader(sessions.factory)

    @provide(scope=Scope.APP)
    def profiles(self, sessions: ReadSessions) -> ProfileReader:
        return SqlaProfileReader(sessions.factory)

    @provide(scope=Scope.APP)
    def recordings(self, sessions: ReadSessions) -> RecordingReader:
        return SqlaRecordingReader(sessions.factory)

    health = provide(DatabaseHealth, scope=Scope.APP)
    migrations = provide(MigrationHealth, scope=Scope.APP)


class SqlaRoomReaderProvider(BackendProvider):
    """Room reads through SQLAlchemy: any database it drives (the embedded SQLite default)."""

    @provide(scope=Scope.APP)
    def rooms(self, sessions: ReadSessions) -> RoomReader:
        return SqlaRoomReader(sessions.factory)


class AsyncpgRoomReaderProvider(BackendProvider):
    """Room reads straight on an asyncpg pool of their own: most of a join's database cost is the ORM."""

    @provide(scope=Scope.APP)
    async def rooms(self, settings: Settings) -> AsyncIterator[RoomReader]:
        async with read_pool_for(
            settings.database, size=settings.database_pool_size, pgbouncer=settings.database_pgbouncer
        ) as pool:
            yield AsyncpgRoomReader(pool)
