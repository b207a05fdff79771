"""An in-process queue of lobby events: what each listener of the memory and Redis channels reads."""

from __future__ import annotations

import asyncio

from meet.domain.lobby.model import LobbyEvent


class QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[LobbyEvent] = asyncio.Queue()

    async def next_event(self, timeout: float) -> LobbyEvent | None:  # noqa: ASYNC109 - a wait bound
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
