"""Knock notifications in the background, at most one in flight per room."""

from __future__ import annotations

import asyncio
import logging

from meet.domain.lobby.model import LobbyEntry
from meet.domain.lobby.ports import KnockNotifier
from meet.domain.rooms.model import SfuRoomName

logger = logging.getLogger("meet.lobby")


class KnockAnnouncer:
    """Tells a room's admins about knocks without ever failing or delaying the knock itself.

    A town hall's first minute brings hundreds of knocks a second into one room, and each
    notification costs calls to the SFU (who is in the room, then the message). So a room has at
    most one notification in flight per process: knocks that arrive meanwhile wait for it and go out
    together in the next one. The SFU sees a bounded rate per room, whatever the rate of knocks, and
    every knock is still announced. With ``pace_seconds``, a room's notifications are also at least
    that far apart: during a rush the knocks of each interval go out as one message, so the SFU (and
    this process) pay for a few notifications a second, not one per knock; a lone knock still goes
    out at once.
    """

    def __init__(self, notifier: KnockNotifier, *, timeout_seconds: float, pace_seconds: float = 0.0) -> None:
        self._notifier = notifier
        self._timeout = timeout_seconds
        self._pace = pace_seconds
        self._queued: dict[str, list[LobbyEntry]] = {}  # a key exists while the room's sender runs
        self._senders: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    def announce(self, room: SfuRoomName, entry: LobbyEntry) -> None:
        queued = self._queued.get(room)
        if queued is not None:
            queued.append(entry)
            return
        self._queued[room] = [entry]
        sender = asyncio.get_running_loop().create_task(self._send_until_drained(room))
        self._senders.add(sender)
        sender.add_done_callback(self._senders.discard)

    async def _send_until_drained(self, room: SfuRoomName) -> None:
        try:
            while batch := self._queued[room]:
                self._queued[room] = []
                try:
                    await asyncio.wait_for(self._notifier.knocked(room, batch), self._timeout)
                except Exception as error:
                    logger.warning("could not tell room %s's admins of %d knock(s): %r", room, len(batch), error)
                if self._pace > 0:
                    await asyncio.sleep(self._pace)  # knocks meanwhile queue up for the next message
        finally:
            del self._queued[room]
