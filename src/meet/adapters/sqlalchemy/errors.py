from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from meet.adapters.sql.errors import DatabaseUnavailable


@asynccontextmanager
async def database_errors() -> AsyncIterator[None]:
    """Turn a lost or refused database connection into a domain-level 503."""
    try:
        yield
    except (OperationalError, InterfaceError) as error:
        raise DatabaseUnavailable from error
    except DBAPIError as error:
        if error.connection_invalidated:
            raise DatabaseUnavailable from error
        raise
    except (ConnectionError, OSError) as error:
        raise DatabaseUnavailable from error
