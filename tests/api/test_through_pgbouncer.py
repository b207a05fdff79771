"""The API suite's read and write paths once more, the way a scaled-out deployment runs: PostgreSQL
through PgBouncer in transaction pooling mode (``MEET_DATABASE_PGBOUNCER=true``) and a Redis Cluster.

The tests are those of the modules below, unchanged, collected here a second time; only the fixtures
that build the app differ: every app of these tests talks to a fresh database (copied from a migrated
template) through PgBouncer, and keeps its sessions and lobby on the cluster. A statement prepared
in one transaction and executed in another, or a session setting relied on across transactions,
fails these tests (PgBouncer hands each transaction whichever server connection is free).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest

from meet.adapters.sqlalchemy.database import create_engine
from meet.adapters.sqlalchemy.migrate import upgrade
from tests.api import test_lobby, test_moderation, test_recordings, test_rooms, test_sessions, test_tokens
from tests.api.conftest import Api, running_api
from tests.api.conftest import test_settings as settings_for
from tests.support.pgbouncer import PgBouncer
from tests.support.redis_settings import fresh_stores
from tests.support.services import Postgres

# Every test of these modules, and the fixtures they define, except those replaced below.
REPLAYED: tuple[ModuleType, ...] = (
    test_rooms,
    test_tokens,
    test_sessions,
    test_lobby,
    test_moderation,
    test_recordings,
)
REPLACED = {"api", "api_with", "lobby_api"}


def _replay(modules: tuple[ModuleType, ...]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in modules:
        short = module.__name__.rsplit(".", 1)[1].removeprefix("test_")
        for name, value in vars(module).items():
            if name.startswith("test_") and callable(value) and getattr(value, "__module__", "") == module.__name__:
                found[f"test_{short}__{name.removeprefix('test_')}"] = value
            elif name not in REPLACED and hasattr(value, "_fixture_function_marker"):
                found[name] = value
    return found


globals().update(_replay(REPLAYED))


async def _admin(postgres: Postgres) -> asyncpg.Connection:
    return await asyncpg.connect(
        host=postgres.host,
        port=postgres.port,
        user=postgres.user,
        password=postgres.password or None,
        database=postgres.database,
    )


@pytest.fixture(scope="session")
def migrated_template(postgres_server: Postgres) -> Iterator[str]:
    """A database migrated once, directly on PostgreSQL; each test gets a copy of it."""
    import asyncio  # noqa: PLC0415

    name = f"meet_template_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        admin = await _admin(postgres_server)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        engine = create_engine(postgres_server.url(name))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    async def drop() -> None:
        admin = await _admin(postgres_server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()

    asyncio.run(create())
    yield name
    asyncio.run(drop())


@pytest.fixture
async def bounced(
    request: pytest.FixtureRequest, postgres_server: Postgres, pgbouncer: PgBouncer, migrated_template: str
) -> AsyncIterator[dict[str, str]]:
    """Settings of a fresh database reached through PgBouncer, and of the emptied Redis Cluster."""
    name = f"meet_{uuid.uuid4().hex[:12]}"
    admin = await _admin(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
        stores = await fresh_stores(request, "redis-cluster")
        yield {"database_url": pgbouncer.url(name), "database_pgbouncer": "true", **stores}
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def api_with(tmp_path: Path, bounced: dict[str, str]) -> Callable[..., Any]:
    def build(*providers: Any, **overrides: str) -> Any:
        return running_api(settings_for(tmp_path, **{**bounced, **overrides}), *providers)

    return build


@pytest.fixture
async def api(api_with: Callable[..., Any]) -> AsyncIterator[Api]:
    async with api_with() as running:
        yield running


@pytest.fixture
async def lobby_api(api_with: Callable[..., Any]) -> AsyncIterator[Api]:
    async with api_with() as running:
        await running.sign_in("owner")
        await running.sign_in("stranger")
        yield running
