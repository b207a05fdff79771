"""The SFU: LiveKit or Janus (token signing, room service, room lifecycle, recording, webhook and
participant-token checks); ``get_providers`` picks one from ``MEET_SFU``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from dishka import Scope, provide

from meet.adapters.janus.client import JanusAdmin, JanusHealth, JanusServer
from meet.adapters.janus.events import JanusEventVerifier
from meet.adapters.janus.recording import JanusRecordingEgress
from meet.adapters.janus.rooms import JanusRooms
from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusParticipantTokenVerifier, JanusTokenIssuer, JanusTokens, JanusTokenSigner
from meet.adapters.livekit.client import LiveKitClientFactory, LiveKitServer
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.adapters.livekit.health import LiveKitHealth
from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.adapters.livekit.rooms import LiveKitRooms
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.adapters.livekit.webhooks import LiveKitWebhookVerifier
from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.conference.events import SfuEventVerifier
from meet.domain.conference.ports import LiveRooms, TokenIssuer
from meet.domain.conference.sfu import RecordingEgress, Sfu
from meet.domain.moderation.ports import ParticipantTokenVerifier
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings


class LiveKitProvider(BackendProvider):
    deployment_checks = (LiveKitHealth,)
    health = provide(LiveKitHealth, scope=Scope.APP)
    rooms = provide(LiveKitRooms, provides=LiveRooms, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def token_issuer(self, settings: Settings) -> TokenIssuer:
        return LiveKitTokenIssuer(
            url=settings.livekit_browser_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
            ttl=timedelta(seconds=settings.token_ttl_seconds),
        )

    @provide(scope=Scope.APP)
    async def clients(self, settings: Settings, metrics: PrometheusMetrics) -> AsyncIterator[LiveKitClientFactory]:
        clients = LiveKitClientFactory(
            LiveKitServer(
                url=settings.livekit_url,
                api_key=settings.livekit_api_key,
                api_secret=settings.livekit_api_secret,
                verify_tls=settings.livekit_verify_tls,
                timeout_seconds=settings.livekit_timeout_seconds,
            ),
            observer=metrics,
        )
        yield clients
        await clients.aclose()

    @provide(scope=Scope.APP)
    def sfu(self, clients: LiveKitClientFactory) -> Sfu:
        return LiveKitSfu(clients)

    @provide(scope=Scope.APP)
    def participant_tokens(self, settings: Settings) -> ParticipantTokenVerifier:
        return LiveKitParticipantTokenVerifier(api_key=settings.livekit_api_key, api_secret=settings.livekit_api_secret)

    @provide(scope=Scope.APP)
    def webhooks(self, settings: Settings) -> SfuEventVerifier:
        return LiveKitWebhookVerifier(api_key=settings.livekit_api_key, api_secret=settings.livekit_api_secret)

    @provide(scope=Scope.APP)
    def egress(self, settings: Settings, clients: LiveKitClientFactory) -> RecordingEgress:
        return LiveKitRecordingEgress(
            clients,
            EgressStorage(
                bucket=settings.s3_bucket,
                endpoint=settings.egress_s3_endpoint_url or settings.s3_endpoint_url,
                region=settings.s3_region,
                access_key=settings.s3_access_key,
                secret=settings.s3_secret_key,
            ),
        )


class JanusProvider(BackendProvider):
    """Janus VideoRoom: meet signs the tokens, drives rooms through the Admin API, and enforces from events
    what Janus cannot (see ``JANUS_CAPABILITIES``)."""

    health_checks = (JanusHealth,)

    @provide(scope=Scope.APP)
    def tokens(self, settings: Settings) -> JanusTokens:
        return JanusTokens(JanusTokenSigner(settings.janus_token_secret), timedelta(seconds=settings.token_ttl_seconds))

    @provide(scope=Scope.APP)
    def token_issuer(self, settings: Settings, tokens: JanusTokens) -> TokenIssuer:
        return JanusTokenIssuer(url=settings.janus_client_url, tokens=tokens)

    @provide(scope=Scope.APP)
    async def admin(self, settings: Settings, metrics: PrometheusMetrics) -> AsyncIterator[JanusAdmin]:
        admin = JanusAdmin(
            JanusServer(
                admin_url=settings.janus_admin_url,
                admin_secret=settings.janus_admin_secret,
                admin_key=settings.janus_admin_key,
                timeout_seconds=settings.janus_timeout_seconds,
                verify_tls=settings.janus_verify_tls,
            ),
            observer=metrics,
        )
        yield admin
        await admin.aclose()

    @provide(scope=Scope.APP)
    def janus_sfu(self, settings: Settings, admin: JanusAdmin, tokens: JanusTokens) -> JanusSfu:
        # The rooms' secrets derive from meet's secret key, so every process computes the same ones.
        return JanusSfu(admin, tokens, room_secret_key=settings.secret_key.encode("utf-8"))

    @provide(scope=Scope.APP)
    def sfu(self, sfu: JanusSfu) -> Sfu:
        return sfu

    @provide(scope=Scope.APP)
    async def rooms(self, settings: Settings, sfu: JanusSfu) -> AsyncIterator[LiveRooms]:
        rooms = JanusRooms(sfu, empty_timeout=settings.janus_empty_timeout_seconds)
        yield rooms
        await rooms.aclose()

    @provide(scope=Scope.APP)
    def participant_tokens(self, tokens: JanusTokens) -> ParticipantTokenVerifier:
        return JanusParticipantTokenVerifier(tokens)

    @provide(scope=Scope.APP)
    def webhooks(self, settings: Settings, tokens: JanusTokens) -> SfuEventVerifier:
        return JanusEventVerifier(
            user=settings.janus_events_user, password=settings.janus_events_password, tokens=tokens
        )

    @provide(scope=Scope.APP)
    def egress(self) -> RecordingEgress:
        return JanusRecordingEgress()

    health = provide(JanusHealth, scope=Scope.APP)
