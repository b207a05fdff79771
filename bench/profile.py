"""py-spy profiles of one API worker under load, summarised as "where the CPU goes"."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bench.wrk import Load, run

# First match wins, in this order. SQLAlchemy runs its driver calls inside greenlets, which py-spy
# shows as stacks of their own (not under the request): they still land in the database bucket.
BUCKETS: list[tuple[str, re.Pattern[str]]] = [
    ("LiveKit server API call (knock notification)", re.compile(r"room_service\.py|twirp_client|aiohttp/client")),
    ("LiveKit token signing", re.compile(r"access_token\.py|jwt/|participant_tokens\.py|adapters/livekit/tokens")),
    ("PostgreSQL (asyncpg; SQLAlchemy on paths that write)", re.compile(r"sqlalchemy/|advanced_alchemy/|asyncpg/")),
    ("Redis (lobby store, sessions, rate limits)", re.compile(r"redis/|adapters/redis/|stores/redis")),
    ("dishka request container and providers", re.compile(r"dishka/|<get_\w+_async>")),
    ("meet domain and controllers (own code)", re.compile(r"meet/domain/|meet/entrypoints/")),
    ("Litestar (routing, middleware, serialization)", re.compile(r"litestar/|msgspec")),
    ("uvicorn and the event loop (HTTP parsing, I/O)", re.compile(r"uvicorn/|asyncio/|uvloop|httptools|selectors")),
]


def _frame(frame: str) -> str:
    frame = re.sub(r"\(\S*?site-packages/", "(", frame)
    return re.sub(r"\(\S*?/src/", "(", frame)


def summarise(raw: str) -> dict[str, Any]:
    buckets: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_frame(frame) for frame in stack.split(";")]
        own[frames[-1]] += count
        # A call to the LiveKit server API counts whole (its own token signing included); any other
        # sample goes to the innermost frame that belongs to a bucket.
        first_name, first_pattern = BUCKETS[0]
        if any(first_pattern.search(frame) for frame in frames):
            buckets[first_name] += count
            continue
        for frame in reversed(frames):
            name = next((name for name, pattern in BUCKETS if pattern.search(frame)), None)
            if name:
                buckets[name] += count
                break
        else:
            buckets["other"] += count

    def share(count: int) -> float:
        return round(100 * count / max(total, 1), 1)

    return {
        "samples": total,
        "buckets": [(name, share(count)) for name, count in buckets.most_common()],
        "top_own": [(name, share(count)) for name, count in own.most_common(12)],
    }


def py_spy() -> str | None:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return found if Path(found).exists() else None


def profile(base: str, load: Load, worker: int, seconds: int, out: Path) -> dict[str, Any] | None:
    """Record ``worker`` for ``seconds`` while wrk loads the server; the raw stacks are kept in ``out``."""
    binary = py_spy()
    if binary is None:
        print("  py-spy is missing (uv sync installs it): no profile", flush=True)
        return None
    loader = threading.Thread(target=run, args=(base, load), kwargs={"connections": 32, "seconds": seconds + 2})
    loader.start()
    try:
        subprocess.run(
            [binary, "record", "-p", str(worker), "-d", str(seconds), "-r", "200", "-f", "raw", "-o", str(out),
             "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=seconds + 60, check=False,
        )  # fmt: skip
    finally:
        loader.join()
    if not out.exists():
        print("  py-spy recorded nothing (it needs ptrace rights on the worker)", flush=True)
        return None
    return summarise(out.read_text())
