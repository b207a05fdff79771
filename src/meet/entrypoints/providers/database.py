from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from meet.adapters.sqlalchemy.database import DatabaseHealth, create_engine, create_session_factory
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

    @provide(scope=Scope.REQUEST)
    async def session(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        async with factory() as session:
            yield session

    users = provide(SqlaUserRepository, scope=Scope.REQUEST, provides=UserRepository)
    rooms = provide(SqlaRoomRepository, scope=Scope.REQUEST, provides=RoomRepository)
    accesses = provide(SqlaRoomAccessRepository, scope=Scope.REQUEST, provides=RoomAccessRepository)
    uow = provide(SqlaUnitOfWork, scope=Scope.REQUEST, provides=UnitOfWork)
