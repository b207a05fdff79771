from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from meet.adapters.sqlalchemy.database import create_engine, create_read_session_factory, create_session_factory
from meet.adapters.sqlalchemy.migrate import upgrade
from meet.adapters.sqlalchemy.readers import SqlaRecordingReader, SqlaRoomReader


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same repository tests run against SQLite and a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'meet.sqlite3'}"
    return str(request.getfixturevalue("fresh_postgres_database"))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


@pytest.fixture
def room_reader(engine: AsyncEngine) -> SqlaRoomReader:
    return SqlaRoomReader(create_read_session_factory(engine))


@pytest.fixture
def recording_reader(engine: AsyncEngine) -> SqlaRecordingReader:
    return SqlaRecordingReader(create_read_session_factory(engine))
