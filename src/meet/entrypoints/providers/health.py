from __future__ import annotations

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from meet.adapters.redis.client import RedisHealth
from meet.adapters.sqlalchemy.database import DatabaseHealth
from meet.domain.shared.ports import HealthCheck


class HealthProvider(Provider):
    """Every backing service the readiness probe must reach."""

    @provide(scope=Scope.APP)
    def checks(self, database: DatabaseHealth, redis: Redis | None) -> list[HealthCheck]:
        checks: list[HealthCheck] = [database]
        if redis is not None:
            checks.append(RedisHealth(redis))
        return checks
