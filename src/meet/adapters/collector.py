"""CPython's cyclic garbage collector, paused while a mass decision is answered.

A town hall's admit-all wakes thousands of held polls and streams in a few seconds, each answered at
once and then gone: what they allocate dies by reference counting, and the collector finds next to
nothing (measured: a few hundred objects over a whole delivery). It still runs, and at bad times: each
held poll renewed while people wait leaves its objects in the youngest generation while older ones die,
so a young collection can walk tens of thousands of live objects (150 ms in all over one delivery of
10,000 acceptances on two cores, 67 ms at once). A collection in the middle of the answers delays
every answer after it.

So the collector is paused from the moment this process begins a mass decision, or a decision reaches
a feed here, until ``settle`` seconds after the last one; never longer than ``longest`` at a stretch
(memory stays bounded however many decisions come: what a pause left is collected when it ends, as
the collector would have). A process whose collector something else turned off (a benchmark, a test,
an embedding application) is left as it is.
"""

from __future__ import annotations

import asyncio
import gc
import time

SETTLE_SECONDS = 0.5  # a mass decision's messages are read well under this apart
LONGEST_SECONDS = 10.0


class CollectorPause:
    __slots__ = ("_longest", "_loop", "_resume", "_settle", "_since", "_until")

    def __init__(self, settle: float = SETTLE_SECONDS, longest: float = LONGEST_SECONDS) -> None:
        self._settle = settle
        self._longest = longest
        self._resume: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the one whose timer ends the pause
        self._since = 0.0
        self._until = 0.0

    @property
    def paused(self) -> bool:
        return self._resume is not None

    def extend(self) -> None:
        """Decisions are being answered: the collector waits until ``settle`` seconds after this call."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop, so no answers to hurry
            return
        if self._resume is not None and self._loop is not loop:
            self.end()  # begun in an event loop that stopped before its timer could end it
        now = time.monotonic()
        self._until = now + self._settle
        if self._resume is not None or not gc.isenabled():
            return
        gc.disable()
        self._since, self._loop = now, loop
        self._resume = loop.call_later(self._settle, self._check)

    def end(self) -> None:
        """The collector runs again now (the app stops: nothing more to answer)."""
        if self._resume is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._resume.cancel()
        self._resume = self._loop = None
        gc.enable()

    def _check(self) -> None:
        now = time.monotonic()
        if now < self._until and now - self._since < self._longest:
            self._resume = asyncio.get_running_loop().call_later(self._until - now, self._check)
            return
        self._resume = self._loop = None
        gc.enable()


COLLECTOR = CollectorPause()  # the collector is the process's: one pause for all its feeds
