"""Work every API process does beside its requests: deliver due webhooks, trim the audit log.

Every process runs it (there is no single worker to keep alive); the outbox's claims keep two
processes from sending one attempt twice, and trimming twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from meet.domain.audit.use_cases import TrimAudit
from meet.domain.lobby.records import MoveLobbyRecords
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.webhooks.use_cases import DeliverDueWebhooks

logger = logging.getLogger("meet.background")

TRIM_EVERY_SECONDS = 3600.0
SHUTDOWN_GRACE_SECONDS = 5.0


class BackgroundWork:
    def __init__(self, deliver: DeliverDueWebhooks, trim: TrimAudit, poll_seconds: float) -> None:
        self._deliver = deliver
        self._trim = trim
        self._poll = poll_seconds
        self._next_trim = time.monotonic()

    async def run(self) -> None:
        while True:
            claimed = await attempt(self._deliver.execute, "webhook delivery")
            if time.monotonic() >= self._next_trim:
                self._next_trim = time.monotonic() + TRIM_EVERY_SECONDS
                await attempt(self._trim.execute, "audit retention")
            if not claimed:
                await asyncio.sleep(self._poll)


async def attempt(work: Callable[[], Awaitable[int]], name: str) -> int:
    """Run one step of background work; a failure is logged and counts as nothing done."""
    try:
        return await work()
    except ServiceUnavailable as error:
        logger.warning("%s paused: %s", name, error.message)
    except Exception:
        logger.exception("%s failed", name)
    return 0


class MovingLobbyRecords:
    """Moves the lobby's decisions from the store into the audit log, on a schedule of its own."""

    def __init__(self, move: MoveLobbyRecords, poll_seconds: float) -> None:
        self._move = move
        self._poll = poll_seconds

    async def run(self) -> None:
        # The first sweep one interval after start: nothing a process just started holds is urgent.
        await asyncio.sleep(self._poll)
        while True:
            if not await attempt(self._move.execute, "lobby records"):
                await asyncio.sleep(self._poll)


@asynccontextmanager
async def running_in_background(*works: BackgroundWork | MovingLobbyRecords) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(work.run(), name=f"meet-{type(work).__name__}") for work in works]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        # A step blocked in a client that is itself waiting on a dead service must not hold the process's
        # shutdown: the tasks get a bounded time to unwind, and are left to the loop's end after it.
        _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in pending:
            logger.warning("background work %s did not stop within %s s", task.get_name(), SHUTDOWN_GRACE_SECONDS)
