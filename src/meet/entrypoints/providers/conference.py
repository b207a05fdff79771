from __future__ import annotations

from datetime import timedelta

from dishka import Provider, Scope, provide

from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.domain.conference.join import Admission
from meet.domain.conference.ports import TokenIssuer
from meet.entrypoints.settings import Settings


class ConferenceProvider(Provider):
    """The SFU: token signing (LiveKit)."""

    @provide(scope=Scope.APP)
    def token_issuer(self, settings: Settings) -> TokenIssuer:
        return LiveKitTokenIssuer(
            url=settings.livekit_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret,
            ttl=timedelta(seconds=settings.token_ttl_seconds),
        )

    admission = provide(Admission, scope=Scope.APP)
