"""Health probes and the frontend's start-up configuration."""

from __future__ import annotations

import asyncio

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Response, get

from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.conference.sfu import Sfu
from meet.domain.rooms.model import DEFAULT_SOURCES
from meet.domain.shared.ports import HealthCheck
from meet.entrypoints.http.bearer import ANY_TOKEN, needs
from meet.entrypoints.settings import Settings

PROBE_TIMEOUT_SECONDS = 3.0
RETRY_AFTER_SECONDS = 5


class Readiness(msgspec.Struct):
    status: str
    checks: dict[str, str]


class HealthController(Controller):
    tags = ["health"]
    include_in_schema = True

    @get("/healthz", summary="The process is up")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/readyz", summary="Every configured backing service answers")
    async def readyz(self, checks: FromDishka[list[HealthCheck]]) -> Response[Readiness]:
        results = await asyncio.gather(*(_probe(check) for check in checks))
        report = dict(zip((check.name for check in checks), results, strict=True))
        healthy = all(result == "ok" for result in results)
        return Response(
            Readiness(status="ok" if healthy else "unavailable", checks=report),
            status_code=200 if healthy else 503,
            headers=None if healthy else {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )


async def _probe(check: HealthCheck) -> str:
    try:
        await asyncio.wait_for(check.ping(), timeout=PROBE_TIMEOUT_SECONDS)
    except Exception as error:
        return f"unavailable: {type(error).__name__}"
    return "ok"


class LiveKitConfig(msgspec.Struct):
    url: str
    default_sources: list[str]


class Features(msgspec.Struct):
    temporary_rooms: bool
    oidc_sign_in: bool
    dev_sign_in: bool


class SfuConfig(msgspec.Struct):
    """The media server in use and what it can do (a frontend adapts: e.g. no knock data messages)."""

    provider: str
    url: str
    capabilities: dict[str, bool]


class FrontendConfig(msgspec.Struct):
    livekit: LiveKitConfig
    features: Features
    token_ttl_seconds: int
    sfu: SfuConfig


class ConfigController(Controller):
    path = "/config"
    tags = ["config"]

    @get("/", summary="What a frontend needs at start", **needs(ANY_TOKEN))
    async def config(self, settings: FromDishka[Settings], sfu: FromDishka[Sfu]) -> FrontendConfig:
        return FrontendConfig(
            livekit=LiveKitConfig(
                url=settings.livekit_browser_url, default_sources=[source.value for source in DEFAULT_SOURCES]
            ),
            features=Features(
                temporary_rooms=settings.allow_temporary_rooms,
                oidc_sign_in=settings.oidc_enabled,
                dev_sign_in=settings.dev_login_enabled,
            ),
            token_ttl_seconds=settings.token_ttl_seconds,
            sfu=SfuConfig(
                provider=settings.sfu,
                url=settings.janus_client_url if settings.sfu == "janus" else settings.livekit_url,
                capabilities={name: getattr(sfu.capabilities, name) for name in SfuCapabilities.__slots__},
            ),
        )
