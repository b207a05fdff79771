"""The garbage collector's full pass, run by the process at moments it chooses, not by CPython.

A full pass walks every tracked object: about 50 us per open lobby stream or held poll, half a second
with 10,000 of them, during which the worker answers nothing. CPython starts one whenever a quarter of
the old generation is new since the last, and held polls make that happen all the time: each lives
about 20 s, long enough to be promoted, then is replaced by the next. With 10,000 La Suite pollers that
was a pass every few seconds (a fifth of the worker's time), and each stall let a second of requests
pile up, every one of them holding a Redis connection.

So CPython's own full pass is switched off while the app runs (its young collections stay as they
are: they free what dies young, which is nearly everything a request allocates), and this collector
runs the full pass instead:
- at once when anything reached the old generation since the last pass and the worker has been quiet
  for a whole check (no young collection: nothing is being allocated), at most once per
  ``min_interval``: the next burst (an ``admit-all`` accepting 10,000 people) starts from a clean old
  generation;
- and, however busy the worker, once ``max_interval`` has passed since the last pass: garbage in
  reference cycles that reached the old generation is freed within that time, whatever the load;
- never while the collector is paused (``meet.adapters.collector``: a mass decision being answered, when
  no young collection runs either, so the worker would look quiet): the pass waits for the pause's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from meet.adapters.collector import COLLECTOR

_FULL = 2
# CPython's third threshold counts young-generation passes between its own full passes: never reached.
_NEVER = 2**31 - 1


class QuietCollector:
    """Decides, once per check, whether the full pass runs now; ``check`` is called by ``running``'s task.

    ``min_interval`` bounds what a quiet worker spends (at most one pass in that many seconds);
    ``max_interval`` bounds how long a busy one keeps its old generation's garbage.
    """

    def __init__(
        self, *, min_interval: float = 60.0, max_interval: float = 120.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._min_interval = min_interval
        self._max_interval = max_interval
        self._clock = clock
        self._young_collections = 0
        self._last_pass: float | None = None
        self._started = clock()

    def check(self) -> bool:
        """Run the full pass if anything reached the old generation since the last pass, and either nothing
        was allocated since the last check (with the last pass ``min_interval`` old) or the last pass is
        ``max_interval`` old; never while the collector is paused."""
        if not gc.isenabled():
            return False
        quiet = self._young_collections == 0
        self._young_collections = 0
        due = gc.get_count()[_FULL] > 0  # young collections promoted objects since the last full pass
        now = self._clock()
        rested = self._last_pass is None or now - self._last_pass >= self._min_interval
        overdue = now - (self._started if self._last_pass is None else self._last_pass) >= self._max_interval
        if not due or not ((quiet and rested) or overdue):
            return False
        self.collect()
        return True

    def collect(self) -> None:
        self._last_pass = self._clock()
        gc.collect(_FULL)

    def observe(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks`` hook: counts the young collections."""
        if phase == "stop" and info["generation"] != _FULL:
            self._young_collections += 1


@asynccontextmanager
async def running(collector: QuietCollector, *, check_every: float = 1.0) -> AsyncIterator[None]:
    """The collector's checks, one task per process, for as long as the block runs."""

    async def checks() -> None:
        while True:
            await asyncio.sleep(check_every)
            collector.check()

    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], _NEVER)
    gc.callbacks.append(collector.observe)
    task = asyncio.get_running_loop().create_task(checks())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.callbacks.remove(collector.observe)
        gc.set_threshold(*thresholds)
        COLLECTOR.end()
