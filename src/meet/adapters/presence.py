"""Waiting entries kept alive while their participant holds a stream: one refresh per room and period.

The streams of this process register here; a single task refreshes all of a room's entries in one
store call (in chunks) every ``period`` seconds, whatever else happens in the room. 10,000 idle
streams cost one store call per room and period, not 10,000.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from meet.domain.lobby.model import LobbyTimeouts
from meet.domain.lobby.ports import LobbyStore
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable

logger = logging.getLogger("meet.lobby.presence")

CHUNK = 2_000


class BatchedPresence:
    def __init__(self, store: LobbyStore, clock: Clock, timeouts: LobbyTimeouts, *, period: float) -> None:
        self._store = store
        self._clock = clock
        self._timeouts = timeouts
        self._period = period
        self._held: dict[SfuRoomName, Counter[str]] = {}
        self._task: asyncio.Task[None] | None = None

    def holding(self, room: SfuRoomName, participant_id: str) -> _Holding:
        return _Holding(self, room, participant_id)

    def hold(self, room: SfuRoomName, participant_id: str) -> None:
        """Keep the entry alive from now on (``holding`` pairs it with ``release``)."""
        held = self._held.setdefault(room, Counter())
        held[participant_id] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def release(self, room: SfuRoomName, participant_id: str) -> None:
        held = self._held.get(room)
        if held is None:
            return
        held[participant_id] -= 1
        if held[participant_id] <= 0:
            del held[participant_id]
        if not held:
            del self._held[room]

    async def _run(self) -> None:
        while self._held:
            await asyncio.sleep(self._period)
            await self.refresh_now()

    async def refresh_now(self) -> None:
        now = self._clock.now()
        for room, held in list(self._held.items()):
            ids = list(held)
            for start in range(0, len(ids), CHUNK):
                try:
                    await self._store.refresh(room, ids[start : start + CHUNK], now, self._timeouts)
                except ServiceUnavailable as error:
                    # The streams learn it from their event channel; the next period tries again.
                    logger.warning("could not keep the waiting entries of %s alive: %s", room, error)
                    break

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class _Holding:
    """One stream's hold on its entry (a small object: a town hall holds thousands)."""

    __slots__ = ("_participant_id", "_presence", "_room")

    def __init__(self, presence: BatchedPresence, room: SfuRoomName, participant_id: str) -> None:
        self._presence = presence
        self._room = room
        self._participant_id = participant_id

    async def __aenter__(self) -> None:
        self._presence.hold(self._room, self._participant_id)

    async def __aexit__(self, *_: object) -> None:
        self._presence.release(self._room, self._participant_id)
