"""The town hall: N participants holding the lobby's event stream in one room, then one ``admit-all``.

One API process with one worker (every stream on the same event loop). Each participant knocks over
HTTP and opens its stream at once, as a browser does; the streams are raw asyncio sockets (an HTTP
client library would cost the client more than the server). Reported: the worker's RSS per open
stream, its CPU while the N streams sit idle (keep-alives and the entries' refresh included), and
how long after the ``admit-all`` response each acceptance (with its LiveKit token) arrived; a stream
that got none within the deadline is lost, one that ended or said ``gone`` is gone.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvloop

DELIVERY_DEADLINE_SECONDS = 60
OPEN_CONCURRENCY = 32
# Below the server's keep-alive timeout (uvicorn: 5 s): a pooled connection it may be closing is not reused.
KEEPALIVE_EXPIRY = 1.0


@dataclass
class TownHall:
    streams: int
    opened: int
    rss_per_stream_kb: float
    idle_cpu_percent: float
    idle_seconds: float
    admit_all_ms: float
    delivery_cpu_seconds: float  # the worker's CPU from the admit-all request until the last acceptance arrived
    admitted: int
    delivered: int
    lost: int
    gone: int
    delivery_p50_ms: float
    delivery_p99_ms: float
    delivery_max_ms: float
    open_seconds: float


def raise_open_files_limit() -> int:
    """As many descriptors as the hard limit allows (the server, started after this, inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stream:
    """One participant's event stream over a raw socket; waits for its acceptance in the background."""

    def __init__(self) -> None:
        self.accepted_at: float | None = None
        self.gone = False
        self.ready = asyncio.Event()
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None

    async def open(self, host: str, port: int, path: str, credential: str) -> None:
        reader, self._writer = await asyncio.open_connection(host, port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n"
            f"X-Lobby-Credential: {credential}\r\n\r\n"
        )
        self._writer.write(request.encode())
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"the stream was refused: {head[:200]!r}")
        self._task = asyncio.get_running_loop().create_task(self._follow(reader))
        await asyncio.wait_for(self.ready.wait(), 30)

    async def _follow(self, reader: asyncio.StreamReader) -> None:
        seen = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                self.gone = self.accepted_at is None
                self.ready.set()
                return
            seen = seen[-256:] + chunk  # an event may straddle two reads
            if b'"status":"accepted"' in seen and b'"token":"' in seen:
                self.accepted_at = time.monotonic()
                self.ready.set()
                return
            if b"event: gone" in seen or b"event: error" in seen:
                self.gone = True
                self.ready.set()
                return
            if b"event: status" in seen:
                self.ready.set()  # its first status (waiting): the stream is open

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(base: str, room_id: str, owner_cookie: str, count: int, pid: int, idle_seconds: float) -> TownHall:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/api/v1/rooms/{room_id}"
    streams = [Stream() for _ in range(count)]
    limit = asyncio.Semaphore(OPEN_CONCURRENCY)
    limits = httpx.Limits(max_connections=OPEN_CONCURRENCY, keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def join(n: int) -> None:
            async with limit:
                knocked = await client.post(f"{path}/request-entry", json={"username": f"Citizen {n}"})
                knocked.raise_for_status()
                await streams[n].open(host, port, f"{path}/request-entry/events", knocked.json()["credential"])

        await asyncio.sleep(1)
        rss_before = rss_kb(pid)
        started = time.monotonic()
        await asyncio.gather(*(join(n) for n in range(count)))
        open_seconds = time.monotonic() - started
        opened = sum(1 for s in streams if not s.gone)
        await asyncio.sleep(2)  # let the last streams' start-up settle before measuring
        rss_open = rss_kb(pid)
        cpu_before, idle_started = cpu_seconds(pid), time.monotonic()
        await asyncio.sleep(idle_seconds)
        idle_cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - idle_started)

        for stream in streams:
            stream.ready.clear()
        # The client's own 10,000 streams are long-lived: out of its collector's sight, so that a full
        # collection of the client's heap does not delay the timestamps it takes (the server's is measured).
        gc.collect()
        gc.freeze()
        asked, cpu_asked = time.monotonic(), cpu_seconds(pid)
        admitted = await client.post(f"{path}/waiting-participants/admit-all", headers={"Cookie": owner_cookie})
        answered = time.monotonic()
        admitted.raise_for_status()
        pending = [asyncio.create_task(s.ready.wait()) for s in streams if not s.gone]
        await asyncio.wait(pending, timeout=DELIVERY_DEADLINE_SECONDS)
        delivery_cpu = cpu_seconds(pid) - cpu_asked
        for task in pending:
            task.cancel()
    gc.unfreeze()
    delays = [max(0.0, s.accepted_at - answered) * 1000 for s in streams if s.accepted_at is not None]
    result = TownHall(
        streams=count,
        opened=opened,
        rss_per_stream_kb=round((rss_open - rss_before) / max(opened, 1), 1),
        idle_cpu_percent=round(100 * idle_cpu, 2),
        idle_seconds=idle_seconds,
        admit_all_ms=round((answered - asked) * 1000, 1),
        delivery_cpu_seconds=round(delivery_cpu, 2),
        admitted=int(admitted.json()["admitted"]),
        delivered=len(delays),
        lost=sum(1 for s in streams if s.accepted_at is None and not s.gone),
        gone=sum(1 for s in streams if s.gone),
        delivery_p50_ms=round(_percentile(delays, 0.50), 1),
        delivery_p99_ms=round(_percentile(delays, 0.99), 1),
        delivery_max_ms=round(max(delays, default=0.0), 1),
        open_seconds=round(open_seconds, 1),
    )
    await asyncio.gather(*(s.close() for s in streams))
    return result


def town_hall(base: str, room_id: str, owner_cookie: str, count: int, pid: int, idle_seconds: float) -> dict[str, Any]:
    print(f"  town hall: {count:,} streams in one room, one worker ...", flush=True)
    # uvloop, as the server: the client's own loop must not be what delays the timestamps it takes.
    result = uvloop.run(_run(base, room_id, owner_cookie, count, pid, idle_seconds))
    print(
        f"    opened {result.opened:,} in {result.open_seconds} s; {result.rss_per_stream_kb} KB RSS per stream; "
        f"idle CPU {result.idle_cpu_percent}%; delivery p50 {result.delivery_p50_ms} ms, "
        f"p99 {result.delivery_p99_ms} ms, max {result.delivery_max_ms} ms; lost {result.lost}, gone {result.gone}",
        flush=True,
    )
    return asdict(result)


def townhall_targets(found: dict[str, Any]) -> list[tuple[str, bool, str]]:
    n = found["streams"]
    p99_target = 2000 if n >= 10_000 else 300
    return [
        (
            f"8. town hall, {n:,} streams: every acceptance delivered, p99 <= {p99_target:,} ms after admit-all",
            found["delivered"] == n and found["delivery_p99_ms"] <= p99_target,
            f"{found['delivered']:,} of {n:,}, p99 {found['delivery_p99_ms']:,.0f} ms (max "
            f"{found['delivery_max_ms']:,.0f}), lost {found['lost']}, gone {found['gone']}",
        ),
        (
            "8. town hall: <= 20 KB of RSS per open stream",
            found["rss_per_stream_kb"] <= 20,
            f"{found['rss_per_stream_kb']} KB",
        ),
        (
            f"8. town hall: idle CPU with {n:,} streams < 5% of a core",
            found["idle_cpu_percent"] < 5,
            f"{found['idle_cpu_percent']}% over {found['idle_seconds']:.0f} s",
        ),
    ]
