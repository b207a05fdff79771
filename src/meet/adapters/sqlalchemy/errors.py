from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from meet.adapters.sql.errors import ASYNCPG_UNREACHABLE, DatabaseUnavailable


@asynccontextmanager
async def database_errors() -> AsyncIterator[None]:
    """Turn a lost or refused database connection into a domain-level 503."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        raise DatabaseUnavailable from error
    except DBAPIError as error:
        if error.connection_invalidated or _connection_lost(error):
            raise DatabaseUnavailable from error
        raise
    except (ConnectionError, OSError) as error:
        raise DatabaseUnavailable from error


def _connection_lost(error: DBAPIError) -> bool:
    """The driver's own error says there was no usable connection (SQLAlchemy wraps some of asyncpg's,
    "the database system is starting up" or "cannot switch to state N", as a plain ``DBAPIError``)."""
    cause: BaseException | None = error.orig
    while cause is not None:
        if isinstance(cause, ASYNCPG_UNREACHABLE):
            return True
        cause = cause.__cause__
    return False
