"""``meet check``: the settings are valid and every configured backing service answers, one line each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from dishka import Provider, Scope, provide
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.adapters.livekit.health import LiveKitHealth
from meet.adapters.oidc.health import OidcDiscoveryHealth
from meet.adapters.smtp.health import SmtpHealth
from meet.adapters.smtp.mailer import SmtpServer
from meet.adapters.sqlalchemy.migrate import MigrationHealth
from meet.domain.shared.ports import HealthCheck
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings

CHECK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class DeploymentChecks:
    """Every backing service the settings configure, in the order they are reported."""

    checks: list[HealthCheck]
    not_configured: dict[str, str]


class DeploymentChecksProvider(Provider):
    """The readiness probe's checks, the migration level instead of a bare ping, and the SFU, mail and OIDC."""

    @provide(scope=Scope.APP)
    def deployment_checks(
        self,
        settings: Settings,
        readiness: list[HealthCheck],
        engine: AsyncEngine,
        livekit: LiveKitClientFactory,
        http: httpx.AsyncClient,
    ) -> DeploymentChecks:
        checks: list[HealthCheck] = [MigrationHealth(engine)]
        checks += [check for check in readiness if check.name != "database"]
        checks.append(LiveKitHealth(livekit))
        not_configured: dict[str, str] = {}
        if not settings.redis_url:
            not_configured["redis"] = "in-memory lobby and sessions (one process only)"
        if not settings.s3_endpoint_url:
            not_configured["storage"] = f"recordings in the local folder {settings.data_dir}/media"
        if settings.smtp_host:
            checks.append(SmtpHealth(_smtp_server(settings)))
        else:
            not_configured["smtp"] = "mail is only logged"
        if settings.oidc_issuer:
            checks.append(OidcDiscoveryHealth(settings.oidc_issuer, http))
        else:
            not_configured["oidc"] = "no sign-in but the development one"
        return DeploymentChecks(checks, not_configured)


def _smtp_server(settings: Settings) -> SmtpServer:
    return SmtpServer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        tls=settings.smtp_tls,
        timeout_seconds=CHECK_TIMEOUT_SECONDS,
    )


async def _outcome(check: HealthCheck) -> str | None:
    """None when the service answered, else why not (the exception's type and message, never a secret)."""
    try:
        await asyncio.wait_for(check.ping(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:
        cause = error.__cause__ or error
        message = str(error) or str(cause)
        return f"{type(cause).__name__}: {message}" if message else type(cause).__name__
    return None


async def check_deployment(settings: Settings, output: Callable[[str], None] = print) -> int:
    """Report each service on a line; 0 when all answered, else 1 with the first failure named last."""
    output(f"settings: ok ({settings.profile.value} profile)")
    container = make_container(settings, DeploymentChecksProvider())
    try:
        deployment = await container.get(DeploymentChecks)
        outcomes = await asyncio.gather(*(_outcome(check) for check in deployment.checks))
    finally:
        await container.close()
    failed: list[str] = []
    for check, problem in zip(deployment.checks, outcomes, strict=True):
        output(f"{check.name}: ok" if problem is None else f"{check.name}: FAILED ({problem})")
        if problem is not None:
            failed.append(check.name)
    for name, meaning in deployment.not_configured.items():
        output(f"{name}: not configured ({meaning})")
    if failed:
        output(f"meet check: {failed[0]} failed" + (f" (also {', '.join(failed[1:])})" if failed[1:] else ""))
        return 1
    return 0
