from __future__ import annotations

import logging

from meet.domain.conference.bars import RoomBars
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu
from meet.domain.shared.clock import Clock

logger = logging.getLogger("meet.moderation")


class RemoveAgainOnRejoin:
    """SFU event handler: LiveKit does not revoke a removed participant's token (it even refreshes it for a
    connected client), so a barred identity that joins again is removed again."""

    def __init__(self, bars: RoomBars, sfu: Sfu, clock: Clock) -> None:
        self._bars = bars
        self._sfu = sfu
        self._clock = clock

    async def handle(self, event: SfuEvent) -> None:
        if event.kind != "participant_joined" or not event.room or not event.participant_identity:
            return
        if not await self._bars.barred(event.room, (event.participant_identity,), self._clock.now()):
            return
        logger.info("removing %s from %s again: their removal still lasts", event.participant_identity, event.room)
        try:
            await self._sfu.remove_participant(event.room, event.participant_identity)
        except ParticipantNotInRoom:
            return
