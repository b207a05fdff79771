"""Work every API process does beside its requests: deliver due webhooks, trim the audit log.

Every process runs it (there is no single worker to keep alive); the outbox's claims keep two
processes from sending one attempt twice, and trimming twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from meet.domain.audit.use_cases import TrimAudit
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.webhooks.use_cases import DeliverDueWebhooks

logger = logging.getLogger("meet.background")

TRIM_EVERY_SECONDS = 3600.0


class BackgroundWork:
    def __init__(self, deliver: DeliverDueWebhooks, trim: TrimAudit, poll_seconds: float) -> None:
        self._deliver = deliver
        self._trim = trim
        self._poll = poll_seconds
        self._next_trim = time.monotonic()

    async def run(self) -> None:
        while True:
            claimed = await self._step(self._deliver.execute, "webhook delivery")
            if time.monotonic() >= self._next_trim:
                self._next_trim = time.monotonic() + TRIM_EVERY_SECONDS
                await self._step(self._trim.execute, "audit retention")
            if not claimed:
                await asyncio.sleep(self._poll)

    @staticmethod
    async def _step(work: Callable[[], Awaitable[int]], name: str) -> int:
        try:
            return await work()
        except ServiceUnavailable as error:
            logger.warning("%s paused: %s", name, error.message)
        except Exception:
            logger.exception("%s failed", name)
        return 0


@asynccontextmanager
async def running_in_background(work: BackgroundWork) -> AsyncIterator[None]:
    task = asyncio.create_task(work.run(), name="meet-background")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
