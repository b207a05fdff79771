from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from dishka import AsyncContainer, Provider, Scope, provide
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from meet.adapters.asyncpg.pool import read_pool_for
from meet.adapters.asyncpg.rooms import AsyncpgRoomReads
from meet.adapters.sqlalchemy.database import (
    DatabaseHealth,
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from meet.adapters.sqlalchemy.repositories import (
    SqlaRoomAccessRepository,
    SqlaRoomRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
)
from meet.domain.rooms.ports import RoleLookup, RoomAccessRepository, RoomLookup, RoomRepository
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.ports import UserRepository
from meet.entrypoints.settings import Settings

READ_ONLY = "database_read_only"
# Route-handler ``opt`` for handlers that never write to the database.
READ_ONLY_DATABASE = {READ_ONLY: True}


@dataclass(frozen=True, slots=True)
class ReadSessions:
    factory: async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class PostgresReads:
    """The asyncpg pool behind read-only request paths; ``None`` unless the database is PostgreSQL on asyncpg."""

    pool: asyncpg.Pool | None


def _is_read_only(request: Request) -> bool:  # type: ignore[type-arg]
    return bool(request.route_handler.opt.get(READ_ONLY))


def _asyncpg_reads(reads: PostgresReads, request: Request) -> AsyncpgRoomReads | None:  # type: ignore[type-arg]
    return AsyncpgRoomReads(reads.pool) if reads.pool is not None and _is_read_only(request) else None


class DatabaseProvider(Provider):
    """PostgreSQL or SQLite through SQLAlchemy (one engine per process, one session per request), and on
    PostgreSQL an asyncpg pool for the lookups of read-only paths."""

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(
            settings.database, pool_size=settings.database_pool_size, pgbouncer=settings.database_pgbouncer
        )
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    @provide(scope=Scope.APP)
    def health(self, engine: AsyncEngine) -> DatabaseHealth:
        return DatabaseHealth(engine)

    @provide(scope=Scope.APP)
    def read_sessions(self, engine: AsyncEngine, settings: Settings) -> ReadSessions:
        return ReadSessions(create_read_session_factory(engine, pgbouncer=settings.database_pgbouncer))

    @provide(scope=Scope.REQUEST)
    async def session(
        self,
        factory: async_sessionmaker[AsyncSession],
        read: ReadSessions,
        request: Request,  # type: ignore[type-arg]
    ) -> AsyncIterator[AsyncSession]:
        # Handlers declared read-only (``opt={READ_ONLY: True}``) skip the transaction: see create_read_session_factory.
        chosen = read.factory if _is_read_only(request) else factory
        async with chosen() as session:
            yield session

    @provide(scope=Scope.APP)
    async def postgres_reads(self, settings: Settings) -> AsyncIterator[PostgresReads]:
        async with read_pool_for(
            settings.database, size=settings.database_pool_size, pgbouncer=settings.database_pgbouncer
        ) as pool:
            yield PostgresReads(pool)

    # The room and role lookups every request starts with: on a read-only path they skip SQLAlchemy
    # (most of a join's cost, see the README's performance section); a path that writes reads through
    # its own transaction. The container is asked for a repository only when it is the answer:
    # resolving one opens a session.
    @provide(scope=Scope.REQUEST)
    async def room_lookup(self, reads: PostgresReads, request: Request, container: AsyncContainer) -> RoomLookup:  # type: ignore[type-arg]
        fast = _asyncpg_reads(reads, request)
        return fast if fast is not None else await container.get(RoomRepository)

    @provide(scope=Scope.REQUEST)
    async def role_lookup(self, reads: PostgresReads, request: Request, container: AsyncContainer) -> RoleLookup:  # type: ignore[type-arg]
        fast = _asyncpg_reads(reads, request)
        return fast if fast is not None else await container.get(RoomAccessRepository)

    users = provide(SqlaUserRepository, scope=Scope.REQUEST, provides=UserRepository)
    rooms = provide(SqlaRoomRepository, scope=Scope.REQUEST, provides=RoomRepository)
    accesses = provide(SqlaRoomAccessRepository, scope=Scope.REQUEST, provides=RoomAccessRepository)
    uow = provide(SqlaUnitOfWork, scope=Scope.REQUEST, provides=UnitOfWork)
