"""Background work: outbound webhooks, the audit's retention, the lobby records' move into the audit log.

Background work (deliveries, retention) runs on an engine of its own, with a small pool: however many
messages are due, requests never wait for a connection behind it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
from dishka import Provider, Scope, provide, provide_all
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.cryptography.secrets import AesGcmSecretBox
from meet.adapters.httpx.webhooks import HttpxWebhookSender, SystemHostResolver, client
from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.adapters.prometheus.webhooks import PrometheusWebhookReporter
from meet.adapters.sqlalchemy.audit import SqlaAuditChains
from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.adapters.sqlalchemy.webhooks import SqlaWebhookEndpoints, SqlaWebhookOutbox
from meet.domain.audit.ports import AuditChains
from meet.domain.lobby.records import LobbyRecords, MoveLobbyRecords
from meet.domain.webhooks.model import AddressPolicy
from meet.domain.webhooks.ports import (
    HostResolver,
    SecretBox,
    WebhookEndpoints,
    WebhookOutbox,
    WebhookReporter,
    WebhookSender,
)
from meet.domain.webhooks.use_cases import (
    AddWebhookEndpoint,
    DeliverDueWebhooks,
    ListWebhookEndpoints,
    RemoveWebhookEndpoint,
    RotateWebhookSecret,
    WebhookPolicy,
)
from meet.entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class BackgroundEngine:
    """The engine background work uses: a type of its own, so that no request path is handed it."""

    engine: AsyncEngine


class WebhooksProvider(Provider):
    scope = Scope.APP

    @provide
    async def background_engine(self, settings: Settings) -> AsyncIterator[BackgroundEngine]:
        engine = create_engine(settings.database, pool_size=2, pgbouncer=settings.database_pgbouncer)
        yield BackgroundEngine(engine)
        await engine.dispose()

    @provide
    def policy(self, settings: Settings) -> WebhookPolicy:
        return WebhookPolicy(
            addresses=AddressPolicy(allowed_networks=tuple(settings.webhook_allowed_network_list)),
            rotation_overlap=timedelta(hours=settings.webhook_rotation_overlap_hours),
            lease=timedelta(seconds=settings.webhook_timeout_seconds * 4 + 30),
            batch_size=settings.webhook_batch_size,
        )

    @provide
    def secret_box(self, settings: Settings) -> SecretBox:
        return AesGcmSecretBox.from_passphrase(settings.webhook_encryption_key or settings.secret_key)

    @provide
    def endpoints(self, background: BackgroundEngine, box: SecretBox) -> WebhookEndpoints:
        return SqlaWebhookEndpoints(background.engine, box)

    @provide
    def outbox(self, background: BackgroundEngine) -> WebhookOutbox:
        return SqlaWebhookOutbox(background.engine)

    @provide
    def audit_chains(self, background: BackgroundEngine) -> AuditChains:
        return SqlaAuditChains(background.engine)

    @provide
    def move_lobby_records(self, records: LobbyRecords, background: BackgroundEngine) -> MoveLobbyRecords:
        return MoveLobbyRecords(records, SqlaUnitOfWork(create_session_factory(background.engine)))

    @provide
    async def http(self, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
        async with client(settings.webhook_timeout_seconds) as http:
            yield http

    @provide
    def sender(self, http: httpx.AsyncClient, settings: Settings) -> WebhookSender:
        return HttpxWebhookSender(http, settings.webhook_timeout_seconds)

    resolver = provide(SystemHostResolver, provides=HostResolver)

    @provide
    def reporter(self, metrics: PrometheusMetrics) -> WebhookReporter:
        return PrometheusWebhookReporter(
            metrics.outbound_webhook_attempts,
            metrics.outbound_webhook_delay,
            metrics.outbound_webhook_endpoints_disabled,
        )

    use_cases = provide_all(
        AddWebhookEndpoint, ListWebhookEndpoints, RemoveWebhookEndpoint, RotateWebhookSecret, DeliverDueWebhooks
    )
