from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.engine import make_url

from meet.adapters.sql.errors import DatabaseUnavailable

StatementObserver = Callable[[str], None]

# Errors that mean "no usable connection", not "this statement is wrong".
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)


def is_asyncpg_url(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "asyncpg"


def asyncpg_dsn(url: str) -> str:
    """The libpq-style DSN asyncpg takes, from the SQLAlchemy URL the rest of the service uses."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


_ASYNCPG_STATEMENT_CACHE = 100  # asyncpg's default


async def create_read_pool(
    url: str, *, size: int, observe: StatementObserver | None = None, pgbouncer: bool = False
) -> asyncpg.Pool:
    """A pool that opens its connections on demand, so the service starts while PostgreSQL is down.

    ``observe`` is told the text of every statement (the tests count statements with it).
    ``pgbouncer``: the URL leads to PgBouncer in transaction pooling mode, where each statement may
    run on another server connection: no statement cache, so every query is an unnamed statement
    whose Parse, Bind and Execute go out together (asyncpg's documented PgBouncer mode).
    """

    async def prepare(connection: asyncpg.Connection) -> None:
        await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        await connection.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        if observe is not None:
            connection.add_query_logger(lambda record: observe(record.query))

    return await asyncpg.create_pool(
        asyncpg_dsn(url),
        min_size=0,
        max_size=size,
        timeout=5,
        command_timeout=10,
        max_inactive_connection_lifetime=300,
        init=prepare,
        reset=_nothing_to_reset,
        statement_cache_size=0 if pgbouncer else _ASYNCPG_STATEMENT_CACHE,
    )


@asynccontextmanager
async def read_pool_for(
    url: str, *, size: int, observe: StatementObserver | None = None, pgbouncer: bool = False
) -> AsyncIterator[asyncpg.Pool]:
    """The read pool for ``url`` (a PostgreSQL URL on asyncpg), closed on exit."""
    pool = await create_read_pool(url, size=size, observe=observe, pgbouncer=pgbouncer)
    try:
        yield pool
    finally:
        await pool.close()


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """The default reset costs a round trip per release; these connections hold no session state to undo.

    Every statement on them is a single autocommit read: no transaction, lock, cursor, LISTEN or SET.
    """


@asynccontextmanager
async def postgres_errors() -> AsyncIterator[None]:
    """A refused or lost connection is the domain's 503, as on the SQLAlchemy path."""
    try:
        yield
    except _UNREACHABLE as error:
        raise DatabaseUnavailable from error
