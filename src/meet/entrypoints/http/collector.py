"""The garbage collector's full pass, moved to the process's quiet moments.

A full pass walks every tracked object: about 50 us per open lobby stream, half a second with 10,000
of them, during which the worker answers nothing. CPython starts one when enough objects have
survived since the last (its own count says a pass is due, then a quarter of the old generation must
be new), and a burst is what makes that happen: an ``admit-all`` that accepts 10,000 people at once
used to pay the pause in the middle of its delivery, whenever the streams opened before it had
brought the old generation close to the mark. So when anything reached the old generation since the
last full pass and the worker has been quiet for a whole check (no young collection: nothing is
being allocated), the pass runs now, and the next burst starts from an old generation with nothing
new in it: it must promote a quarter of the old generation by itself before CPython runs one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

_FULL = 2


class QuietCollector:
    """Decides, once per check, whether the full pass runs now; ``check`` is called by ``running``'s task.

    ``min_interval`` bounds what it may add: at most one pass of its own in that many seconds.
    """

    def __init__(self, *, min_interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._min_interval = min_interval
        self._clock = clock
        self._young_collections = 0
        self._last_pass: float | None = None

    def check(self) -> bool:
        """Run the full pass if anything reached the old generation since the last full pass, nothing was
        allocated since the last check, and this collector's own last pass is ``min_interval`` old."""
        quiet = self._young_collections == 0
        self._young_collections = 0
        due = gc.get_count()[_FULL] > 0  # young collections promoted objects since the last full pass
        now = self._clock()
        rested = self._last_pass is None or now - self._last_pass >= self._min_interval
        if not (quiet and due and rested):
            return False
        self._last_pass = now
        gc.collect(_FULL)
        return True

    def observe(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks`` hook: counts the young collections (a full pass resets CPython's own count)."""
        if phase == "stop" and info["generation"] != _FULL:
            self._young_collections += 1


@asynccontextmanager
async def running(collector: QuietCollector, *, check_every: float = 1.0) -> AsyncIterator[None]:
    """The collector's checks, one task per process, for as long as the block runs."""

    async def checks() -> None:
        while True:
            await asyncio.sleep(check_every)
            collector.check()

    gc.callbacks.append(collector.observe)
    task = asyncio.get_running_loop().create_task(checks())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.callbacks.remove(collector.observe)
