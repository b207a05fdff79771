"""Janus keeps a VideoRoom room until someone destroys it: meet destroys its rooms once they empty."""

from __future__ import annotations

import logging

from meet.adapters.janus.sfu import JanusSfu
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent

logger = logging.getLogger("meet.janus")


class JanusRoomJanitor:
    """SFU event handler: when the last participant leaves, the room is destroyed.

    Janus then reports ``destroyed``, which meet reads as ``room_finished`` (the lobby is cleared, as
    with LiveKit's own ``room_finished``). The next admitted participant creates the room again.
    """

    def __init__(self, sfu: JanusSfu) -> None:
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        if event.kind != "participant_left" or not event.room:
            return
        try:
            if await self._sfu.list_participants(event.room):
                return
            logger.info("destroying the empty Janus room %s", event.room)
            await self._sfu.destroy_room(event.room)
        except ParticipantNotInRoom:
            return  # already gone
