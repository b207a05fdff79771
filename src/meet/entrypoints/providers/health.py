from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from dishka import AsyncContainer, Provider, Scope, provide

from meet.domain.shared.ports import HealthCheck


class BackendProvider(Provider):
    """Provides the adapters of one backing service; names the health checks that prove it reachable.

    ``health_checks`` are the readiness probe's; ``deployment_checks`` are what ``meet check`` reaches
    besides (services whose outage must not take the API out of a load balancer, like the SFU, or
    checks too slow for a probe, like the migration level). A provider that stands in for a service
    that is not configured says which, and what happens instead, in ``absent``.
    """

    health_checks: ClassVar[tuple[type[HealthCheck], ...]] = ()
    deployment_checks: ClassVar[tuple[type[HealthCheck], ...]] = ()
    absent: ClassVar[tuple[str, str] | None] = None


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


@dataclass(frozen=True, slots=True)
class DeploymentChecks:
    """Every configured backing service's checks, and the services not configured (name: what instead)."""

    checks: list[HealthCheck]
    absent: dict[str, str]


class DeploymentChecksProvider(Provider):
    """What ``meet check`` runs: the chosen backends' readiness and deployment checks."""

    def __init__(self, backends: Sequence[BackendProvider]) -> None:
        super().__init__()
        self._checks = tuple(
            check for backend in backends for check in (*backend.health_checks, *backend.deployment_checks)
        )
        self._absent = dict(backend.absent for backend in backends if backend.absent is not None)

    @provide(scope=Scope.REQUEST)
    async def deployment(self, container: AsyncContainer) -> DeploymentChecks:
        return DeploymentChecks([await container.get(check) for check in self._checks], dict(self._absent))
