from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from meet.adapters.sqlalchemy.errors import database_errors


def _unnamed_statement() -> str:
    return ""


# Behind PgBouncer in transaction pooling mode consecutive transactions of one client connection run
# on different server connections, so nothing may outlive a transaction on the server: no named
# prepared statement (asyncpg would re-use its cached ones on a server that never saw them, and
# collide with another client's of the same name). SQLAlchemy's asyncpg dialect still prepares each
# statement, so it prepares it unnamed (the server drops it at the next one) and caches none; its
# Parse and its Execute reach the same server connection because SQLAlchemy always opens a
# transaction around them (see ``create_read_session_factory``).
PGBOUNCER_CONNECT_ARGS = {
    "statement_cache_size": 0,
    "prepared_statement_cache_size": 0,
    "prepared_statement_name_func": _unnamed_statement,
}


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False, pgbouncer: bool = False) -> AsyncEngine:
    """An engine for the URL; SQLite gets its folder created and foreign keys switched on.

    ``pgbouncer``: the URL leads to PgBouncer in transaction pooling mode (see ``PGBOUNCER_CONNECT_ARGS``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every checkout of the hot path. A connection that died
        # with the server fails its request (a 503), and SQLAlchemy then discards the whole pool.
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=5,
        connect_args=_connect_args(parsed.get_backend_name(), pgbouncer=pgbouncer),
    )


def _connect_args(backend: str, *, pgbouncer: bool) -> dict[str, object]:
    if backend != "postgresql":
        return {}
    return {"timeout": 5, **(PGBOUNCER_CONNECT_ARGS if pgbouncer else {})}


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_session_factory(engine: AsyncEngine, *, pgbouncer: bool = False) -> async_sessionmaker[AsyncSession]:
    """Sessions for request paths that only read: each statement runs on its own, in autocommit mode.

    That saves the BEGIN and ROLLBACK round trips a transactional session spends around a single
    SELECT, which are most of the database's share of a join. Nothing written through such a session
    is atomic, so it is only for handlers that write nothing.

    Behind PgBouncer (transaction pooling) they stay transactional: outside a transaction, the
    dialect's Parse and Execute of one statement could reach two different server connections.
    """
    if pgbouncer:
        return create_session_factory(engine)
    return async_sessionmaker(
        engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False, autoflush=False
    )


class DatabaseHealth:
    name = "database"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> None:
        async with database_errors(), self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
