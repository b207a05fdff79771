"""Loaded at start-up by every Python process started with this folder on ``PYTHONPATH`` (the bench's API
server, with ``--tracemalloc``): traces allocations, and on ``SIGUSR1`` takes a snapshot; from the second
one on, writes where memory grew since the first to ``$BENCH_TRACEMALLOC_OUT.<pid>``."""

from __future__ import annotations

import os
import signal
import tracemalloc
from types import FrameType

_OUT = os.environ.get("BENCH_TRACEMALLOC_OUT")
_FIRST: list[tracemalloc.Snapshot] = []


def _snapshot(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001 - a signal handler's
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    if not _FIRST:
        _FIRST.append(snapshot)
        return
    grown = snapshot.compare_to(_FIRST[0], "lineno")
    total = sum(stat.size_diff for stat in grown)
    with open(f"{_OUT}.{os.getpid()}", "w", encoding="utf-8") as out:
        out.write(f"total {total}\n")
        for stat in grown[:40]:
            out.write(f"{stat.size_diff} {stat.count_diff} {stat.traceback[0].filename}:{stat.traceback[0].lineno}\n")


if _OUT:
    tracemalloc.start(1)
    signal.signal(signal.SIGUSR1, _snapshot)
