from __future__ import annotations

from dishka import Provider, Scope, provide

from meet.adapters.sqlalchemy.database import DatabaseHealth
from meet.domain.shared.ports import HealthCheck


class HealthProvider(Provider):
    """Every backing service the readiness probe must reach."""

    @provide(scope=Scope.APP)
    def checks(self, database: DatabaseHealth) -> list[HealthCheck]:
        return [database]
