from __future__ import annotations

from collections.abc import Sequence

from dishka import Provider, Scope, provide

from meet.adapters.livekit.webhooks import LiveKitWebhookVerifier
from meet.domain.conference.events import SfuEventHandler, SfuEventVerifier
from meet.domain.conference.webhooks import ReceiveSfuEvent
from meet.domain.lobby.use_cases import ClearLobbyWhenRoomFinishes
from meet.domain.moderation.guard import RemoveAgainOnRejoin
from meet.domain.recordings.events import FollowRecordingEgress
from meet.entrypoints.settings import Settings


class WebhookProvider(Provider):
    """SFU webhooks: LiveKit's signature check, and every handler that reacts to its events."""

    @provide(scope=Scope.APP)
    def verifier(self, settings: Settings) -> SfuEventVerifier:
        return LiveKitWebhookVerifier(api_key=settings.livekit_api_key, api_secret=settings.livekit_api_secret)

    @provide(scope=Scope.APP)
    def handlers(
        self, lobby: ClearLobbyWhenRoomFinishes, rejoin: RemoveAgainOnRejoin, recordings: FollowRecordingEgress
    ) -> Sequence[SfuEventHandler]:
        return [lobby, rejoin, recordings]

    receive = provide(ReceiveSfuEvent, scope=Scope.APP)
