from __future__ import annotations

import asyncpg

from meet.domain.shared.errors import ServiceUnavailable

# What asyncpg raises when there is no usable connection (the statement itself was fine): refused,
# starting up, shutting down, or cut off mid-protocol ("cannot switch to state N" in a fast shutdown).
ASYNCPG_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InternalClientError,
)


class DatabaseUnavailable(ServiceUnavailable):
    default_message = "The database is unavailable; try again shortly."
    code = "database_unavailable"
