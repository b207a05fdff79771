"""Janus keeps a VideoRoom room from its creation until someone destroys it; meet does both."""

from __future__ import annotations

import logging

from meet.adapters.janus.sfu import JanusSfu
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent

logger = logging.getLogger("meet.janus")


class JanusRooms:
    """``LiveRooms`` on Janus: the room is created before a connection to it is issued, destroyed when it empties.

    Janus then reports ``destroyed``, which meet reads as ``room_finished`` (the lobby is cleared, as with
    LiveKit's own ``room_finished``). The next connection issued creates the room again; a client that
    raced the destruction (VideoRoom error 426, no such room) fetches a fresh connection.
    """

    def __init__(self, sfu: JanusSfu) -> None:
        self._sfu = sfu

    async def prepare(self, room: str) -> None:
        await self._sfu.ensure_room(room)

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
