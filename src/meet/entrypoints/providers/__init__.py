"""The composition root: the only place that picks an adapter for each port, from settings.

``get_providers(settings)`` chooses one provider class per backend; everything else in the
service is the same whatever the choice.
"""

from __future__ import annotations

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container
from dishka.integrations.litestar import LitestarProvider

from meet.adapters.asyncpg.pool import is_asyncpg_url
from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.entrypoints.providers.database import (
    AsyncpgRoomReaderProvider,
    SqlaDatabaseProvider,
    SqlaRoomReaderProvider,
)
from meet.entrypoints.providers.health import BackendProvider, HealthProvider
from meet.entrypoints.providers.identity import (
    NoProviderTokensProvider,
    NoSignInProvider,
    OidcProvider,
    ResourceServerProvider,
    ViewerProvider,
)
from meet.entrypoints.providers.metrics import MetricsProvider
from meet.entrypoints.providers.sfu import JanusProvider, LiveKitProvider
from meet.entrypoints.providers.storage import (
    LocalStorageProvider,
    LogMailProvider,
    S3StorageProvider,
    SmtpMailProvider,
)
from meet.entrypoints.providers.stores import MemoryStoresProvider, RedisClusterProvider, RedisProvider
from meet.entrypoints.providers.use_cases import (
    ApplicationsProvider,
    AuditProvider,
    ConferenceProvider,
    LobbyProvider,
    ModerationProvider,
    RecordingsProvider,
    RoomsProvider,
    UsersProvider,
)
from meet.entrypoints.providers.webhooks import WebhooksProvider
from meet.entrypoints.settings import Settings


class SettingsProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)
    metrics = from_context(provides=PrometheusMetrics, scope=Scope.APP)


def stores_provider(settings: Settings) -> BackendProvider:
    if settings.redis_cluster:
        return RedisClusterProvider()
    return RedisProvider() if settings.redis_url else MemoryStoresProvider()


def backend_providers(settings: Settings) -> list[BackendProvider]:
    """One provider per backing service, each chosen here and nowhere else."""
    return [
        SqlaDatabaseProvider(),
        AsyncpgRoomReaderProvider() if is_asyncpg_url(settings.database) else SqlaRoomReaderProvider(),
        stores_provider(settings),
        JanusProvider() if settings.sfu == "janus" else LiveKitProvider(),
        S3StorageProvider() if settings.s3_endpoint_url else LocalStorageProvider(),
        SmtpMailProvider() if settings.smtp_host else LogMailProvider(),
        OidcProvider() if settings.oidc_enabled else NoSignInProvider(),
    ]


def get_providers(settings: Settings) -> list[Provider]:
    backends = backend_providers(settings)
    checks = [check for backend in backends for check in backend.health_checks]
    return [
        SettingsProvider(),
        LitestarProvider(),
        ViewerProvider(),
        ResourceServerProvider() if settings.oidc_resource_server else NoProviderTokensProvider(),
        *backends,
        HealthProvider(checks),
        UsersProvider(),
        ApplicationsProvider(),
        RoomsProvider(),
        ConferenceProvider(),
        LobbyProvider(),
        ModerationProvider(),
        RecordingsProvider(),
        AuditProvider(),
        WebhooksProvider(),
        MetricsProvider(),
    ]


def make_container(
    settings: Settings, *overrides: Provider, metrics: PrometheusMetrics | None = None
) -> AsyncContainer:
    """Build the container; providers in ``overrides`` replace the defaults (tests use this)."""
    context = {Settings: settings, PrometheusMetrics: metrics or PrometheusMetrics()}
    return make_async_container(*get_providers(settings), *overrides, context=context)
