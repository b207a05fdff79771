from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from dishka import Provider, Scope, provide
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

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
from meet.domain.rooms.ports import RoomAccessRepository, RoomRepository
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.ports import UserRepository
from meet.entrypoints.settings import Settings

READ_ONLY = "database_read_only"
# Route-handler ``opt`` for handlers that never write to the database.
READ_ONLY_DATABASE = {READ_ONLY: True}


@dataclass(frozen=True, slots=True)
class ReadSessions:
    factory: async_sessionmaker[AsyncSession]


class DatabaseProvider(Provider):
    """PostgreSQL or SQLite through SQLAlchemy: one engine per process, one session per request."""

    @provide(scope=Scope.APP)
    async def engine(self, settings: Settings) -> AsyncIterator[AsyncEngine]:
        engine = create_engine(settings.database, pool_size=settings.database_pool_size)
        yield engine
        await engine.dispose()

    @provide(scope=Scope.APP)
    def session_factory(self, engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
        return create_session_factory(engine)

    @provide(scope=Scope.APP)
    def health(self, engine: AsyncEngine) -> DatabaseHealth:
        return DatabaseHealth(engine)

    @provide(scope=Scope.APP)
    def read_sessions(self, engine: AsyncEngine) -> ReadSessions:
        return ReadSessions(create_read_session_factory(engine))

    @provide(scope=Scope.REQUEST)
    async def session(
        self,
        factory: async_sessionmaker[AsyncSession],
        read: ReadSessions,
        request: Request,  # type: ignore[type-arg]
    ) -> AsyncIterator[AsyncSession]:
        # Handlers declared read-only (``opt={READ_ONLY: True}``) skip the transaction: see create_read_session_factory.
        chosen = read.factory if request.route_handler.opt.get(READ_ONLY) else factory
        async with chosen() as session:
            yield session

    users = provide(SqlaUserRepository, scope=Scope.REQUEST, provides=UserRepository)
    rooms = provide(SqlaRoomRepository, scope=Scope.REQUEST, provides=RoomRepository)
    accesses = provide(SqlaRoomAccessRepository, scope=Scope.REQUEST, provides=RoomAccessRepository)
    uow = provide(SqlaUnitOfWork, scope=Scope.REQUEST, provides=UnitOfWork)
