from __future__ import annotations

import logging

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu
from meet.domain.moderation.ports import RemovalRegistry
from meet.domain.rooms.model import Room

logger = logging.getLogger("meet.moderation")


class RemovedAreBarred:
    """Entry guard: an identity removed from a room gets no token for it while its removal lasts."""

    def __init__(self, removals: RemovalRegistry) -> None:
        self._removals = removals

    async def is_barred(self, room: Room, identity: str) -> bool:
        return await self._removals.is_barred(room.sfu_room_name, identity)


class RemoveAgainOnRejoin:
    """SFU event handler: LiveKit does not revoke a removed participant's token (it even refreshes it for a
    connected client), so a removed identity that joins again is removed again."""

    def __init__(self, removals: RemovalRegistry, sfu: Sfu) -> None:
        self._removals = removals
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        if event.kind != "participant_joined" or not event.room or not event.participant_identity:
            return
        if not await self._removals.is_barred(event.room, event.participant_identity):
            return
        logger.info("removing %s from %s again: their removal still lasts", event.participant_identity, event.room)
        try:
            await self._sfu.remove_participant(event.room, event.participant_identity)
        except ParticipantNotInRoom:
            return
