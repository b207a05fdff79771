from __future__ import annotations

from dishka import Provider, Scope, provide

from meet.domain.moderation.guard import PublishRoomMetadata, RemoveAgainOnRejoin, RemovedAreBarred
from meet.domain.moderation.use_cases import (
    ChangeParticipant,
    ListLiveParticipants,
    ModerationPolicy,
    MuteTrack,
    RemoveParticipant,
    SelfService,
)
from meet.domain.rooms.ports import EntryGuard, RoomChangeListener
from meet.entrypoints.settings import Settings


class ModerationProvider(Provider):
    """Acting on the live room, and keeping removed people out (Redis when configured, else memory)."""

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> ModerationPolicy:
        return ModerationPolicy(
            removal_seconds=settings.removal_seconds,
            allow_display_name_changes=settings.allow_display_name_changes,
        )

    entry_guard = provide(RemovedAreBarred, scope=Scope.APP, provides=EntryGuard)
    room_changes = provide(PublishRoomMetadata, scope=Scope.REQUEST, provides=RoomChangeListener)
    rejoin = provide(RemoveAgainOnRejoin, scope=Scope.APP)
    list_live = provide(ListLiveParticipants, scope=Scope.REQUEST)
    mute = provide(MuteTrack, scope=Scope.REQUEST)
    remove = provide(RemoveParticipant, scope=Scope.REQUEST)
    change = provide(ChangeParticipant, scope=Scope.REQUEST)
    self_service = provide(SelfService, scope=Scope.REQUEST)
