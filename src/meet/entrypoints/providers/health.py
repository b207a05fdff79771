from __future__ import annotations

from dishka import Provider, Scope, provide
from redis.asyncio import Redis, RedisCluster

from meet.adapters.redis.client import RedisClusterHealth, RedisHealth
from meet.adapters.s3.storage import S3Health, S3ObjectStorage
from meet.adapters.sqlalchemy.database import DatabaseHealth
from meet.domain.recordings.ports import ObjectStorage
from meet.domain.shared.ports import HealthCheck


class HealthProvider(Provider):
    """Every backing service the readiness probe must reach."""

    @provide(scope=Scope.APP)
    def checks(self, database: DatabaseHealth, redis: Redis | None, storage: ObjectStorage) -> list[HealthCheck]:
        checks: list[HealthCheck] = [database]
        if redis is not None:
            checks.append(RedisClusterHealth(redis) if isinstance(redis, RedisCluster) else RedisHealth(redis))
        if isinstance(storage, S3ObjectStorage):  # a local folder has nothing to be unreachable
            checks.append(S3Health(storage))
        return checks
