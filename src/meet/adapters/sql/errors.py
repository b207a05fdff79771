from __future__ import annotations

from meet.domain.shared.errors import ServiceUnavailable


class DatabaseUnavailable(ServiceUnavailable):
    default_message = "The database is unavailable; try again shortly."
    code = "database_unavailable"
