"""The composition root: the only place that picks an adapter for each port, from settings."""

from __future__ import annotations

from dishka import AsyncContainer, Provider, Scope, from_context, make_async_container
from dishka.integrations.litestar import LitestarProvider

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.entrypoints.providers.auth import AuthProvider
from meet.entrypoints.providers.conference import ConferenceProvider
from meet.entrypoints.providers.database import DatabaseProvider
from meet.entrypoints.providers.health import HealthProvider
from meet.entrypoints.providers.lobby import LobbyProvider
from meet.entrypoints.providers.moderation import ModerationProvider
from meet.entrypoints.providers.recordings import RecordingsProvider
from meet.entrypoints.providers.redis import ClockProvider, RedisProvider
from meet.entrypoints.providers.rooms import RoomsProvider
from meet.entrypoints.providers.webhooks import WebhookProvider
from meet.entrypoints.settings import Settings


class SettingsProvider(Provider):
    settings = from_context(provides=Settings, scope=Scope.APP)
    metrics = from_context(provides=PrometheusMetrics, scope=Scope.APP)


def get_providers() -> list[Provider]:
    return [
        SettingsProvider(),
        LitestarProvider(),
        DatabaseProvider(),
        ConferenceProvider(),
        AuthProvider(),
        RoomsProvider(),
        HealthProvider(),
        ClockProvider(),
        RedisProvider(),
        LobbyProvider(),
        ModerationProvider(),
        WebhookProvider(),
        RecordingsProvider(),
    ]


def make_container(
    settings: Settings, *overrides: Provider, metrics: PrometheusMetrics | None = None
) -> AsyncContainer:
    """Build the container; providers in ``overrides`` replace the defaults (tests use this)."""
    context = {Settings: settings, PrometheusMetrics: metrics or PrometheusMetrics()}
    return make_async_container(*get_providers(), *overrides, context=context)
