from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from dishka import Provider, Scope, provide

from meet.adapters.livekit.client import LiveKitClientFactory, LiveKitServer
from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.room_service import LiveKitSfu
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.domain.conference.join import Admission
from meet.domain.conference.ports import TokenIssuer
from meet.domain.conference.sfu import Sfu
from meet.domain.moderation.ports import ParticipantTokenVerifier
from meet.entrypoints.settings import Settings


class ConferenceProvider(Provider):
    """The SFU (LiveKit): token signing, the room service, and checking participants' own tokens."""

    @provide(scope=Scope.APP)
    def token_issuer(self, settings: Settings) -> TokenIssuer:
        return LiveKitTokenIssuer(
            url=settings.livekit_browser_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
            ttl=timedelta(seconds=settings.token_ttl_seconds),
        )

    @provide(scope=Scope.APP)
    async def livekit_clients(self, settings: Settings) -> AsyncIterator[LiveKitClientFactory]:
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

    admission = provide(Admission, scope=Scope.APP)
