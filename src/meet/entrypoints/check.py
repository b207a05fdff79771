"""``meet check``: the settings are valid and every configured backing service answers, one line each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from meet.domain.shared.ports import HealthCheck
from meet.entrypoints.providers import backend_providers, make_container
from meet.entrypoints.providers.health import DeploymentChecks, DeploymentChecksProvider
from meet.entrypoints.settings import Settings

CHECK_TIMEOUT_SECONDS = 10.0


async def _problem(check: HealthCheck) -> str | None:
    """None when the service answered, else why not (the error's type and message, never a setting)."""
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
    container = make_container(settings, DeploymentChecksProvider(backend_providers(settings)))
    try:
        async with container() as scope:
            deployment = await scope.get(DeploymentChecks)
            problems = await asyncio.gather(*(_problem(check) for check in deployment.checks))
    finally:
        await container.close()
    failed = [check.name for check, problem in zip(deployment.checks, problems, strict=True) if problem]
    if settings.frontend_dir:
        frontend_problem = settings.frontend_problem
        output("frontend: ok" if frontend_problem is None else f"frontend: FAILED ({frontend_problem})")
        if frontend_problem is not None:
            failed.append("frontend")
    for check, problem in zip(deployment.checks, problems, strict=True):
        output(f"{check.name}: ok" if problem is None else f"{check.name}: FAILED ({problem})")
    for name, instead in deployment.absent.items():
        output(f"{name}: not configured ({instead})")
    if failed:
        also = f" (also {', '.join(failed[1:])})" if failed[1:] else ""
        output(f"meet check: {failed[0]} failed{also}")
        return 1
    return 0
