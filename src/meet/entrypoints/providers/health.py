from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from dishka import AsyncContainer, Provider, Scope, provide

from meet.domain.shared.ports import HealthCheck


class BackendProvider(Provider):
    """Provides the adapters of one backing service; names the health checks that prove it reachable."""

    health_checks: ClassVar[tuple[type[HealthCheck], ...]] = ()


class HealthProvider(Provider):
    """The backing services the readiness probe reaches: those of the backends chosen from settings."""

    def __init__(self, checks: Sequence[type[HealthCheck]]) -> None:
        super().__init__()
        self._checks = tuple(checks)

    # Request scope: resolving app-scoped checks from inside an app-scoped factory would wait on the
    # app container's own lock.
    @provide(scope=Scope.REQUEST)
    async def checks(self, container: AsyncContainer) -> list[HealthCheck]:
        return [await container.get(check) for check in self._checks]
