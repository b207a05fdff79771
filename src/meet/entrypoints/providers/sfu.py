"""The SFU: LiveKit (token signing, room service, egress, webhook and participant-token checks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from dishka import Scope, provide

from meet.adapters.livekit.client import LiveKitClientFactory, LiveKitServer
from meet.adapters.livekit.egress import EgressStorage, LiveKitRecordingEgress
from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.adapters.livekit.webhooks import LiveKitWebhookVerifier
from meet.domain.conference.events import SfuEventVerifier
from meet.domain.conference.ports import TokenIssuer
from meet.domain.conference.sfu import RecordingEgress, Sfu
from meet.domain.moderation.ports import ParticipantTokenVerifier
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings


class LiveKitProvider(BackendProvider):
    @provide(scope=Scope.APP)
    def token_issuer(self, settings: Settings) -> TokenIssuer:
        return LiveKitTokenIssuer(
            url=settings.livekit_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
            ttl=timedelta(seconds=settings.token_ttl_seconds),
        )

    @provide(scope=Scope.APP)
    async def clients(self, settings: Settings) -> AsyncIterator[LiveKitClientFactory]:
        clients = LiveKitClientFactory(
            LiveKitServer(
                url=settings.livekit_url,
                api_key=settings.livekit_api_key,
                api_secret=settings.livekit_api_secret,
                verify_tls=settings.livekit_verify_tls,
                timeout_seconds=settings.livekit_timeout_seconds,
            )
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
