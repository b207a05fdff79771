"""Janus keeps a VideoRoom room from its creation until someone destroys it; meet does both."""

from __future__ import annotations

import asyncio
import logging

from meet.adapters.janus.sfu import JanusSfu
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.janus")


class JanusRooms:
    """``LiveRooms`` on Janus: the room is created before a connection to it is issued, and destroyed once it
    has stayed empty for ``empty_timeout`` seconds (like LiveKit's empty timeout).

    Janus then reports ``destroyed``, which meet reads as ``room_finished`` (the lobby is cleared, as with
    LiveKit's own ``room_finished``). The grace period keeps someone who was just given a connection from
    finding the room gone; a client that still races it (VideoRoom error 426, no such room) fetches a
    fresh connection, which creates the room again.
    """

    def __init__(self, sfu: JanusSfu, *, empty_timeout: float = 30.0) -> None:
        self._sfu = sfu
        self._empty_timeout = empty_timeout
        self._pending: set[asyncio.Task[None]] = set()

    async def prepare(self, room: str) -> None:
        await self._sfu.ensure_room(room)

    async def handle(self, event: SfuEvent) -> None:
        if event.kind != "participant_left" or not event.room:
            return
        # In the background, so the event handler's delivery is answered at once; each leave checks for
        # itself (destroying twice is harmless), so no leave is lost to a check already under way.
        task = asyncio.create_task(self._destroy_if_still_empty(event.room))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _destroy_if_still_empty(self, room: str) -> None:
        try:
            if await self._sfu.list_participants(room):
                return
            await asyncio.sleep(self._empty_timeout)
            if await self._sfu.list_participants(room):
                return
            logger.info("destroying the Janus room %s, empty for %s s", room, self._empty_timeout)
            await self._sfu.destroy_room(room)
        except ParticipantNotInRoom:
            return  # already gone
        except (ServiceUnavailable, UpstreamFailure) as error:
            logger.warning("could not close the empty Janus room %s: %s", room, error)

    async def aclose(self) -> None:
        """Stop waiting on empty rooms (the next empty room's last leave schedules its own cleanup)."""
        tasks = list(self._pending)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
