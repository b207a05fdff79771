"""The town hall: N participants holding the lobby's event stream in one room, then one ``admit-all``;
then N more, one message to them all, then one ``deny-all``.

One API process with one worker (every stream on the same event loop). Each participant knocks over
HTTP and opens its stream at once, as a browser does; the streams are raw asyncio sockets (an HTTP
client library would cost the client more than the server). Reported: the worker's RSS per open
stream, its CPU while the N streams sit idle (keep-alives and the entries' refresh included), and
how long after the ``admit-all`` response each acceptance (with its LiveKit token) arrived; a stream
that got none within the deadline is lost, one that ended or said ``gone`` is gone. The message and the
denials are measured the same way: from the response to the admin's request until each stream got it.
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
    # The second crowd: one message to everyone waiting, then deny-all (each from its response on).
    message_ms: float
    message_delivered: int
    message_p50_ms: float
    message_p99_ms: float
    message_max_ms: float
    deny_all_ms: float  # the request: one script, and the N bars in one database statement
    denied: int
    deny_delivered: int
    deny_lost: int
    deny_p50_ms: float
    deny_p99_ms: float
    deny_max_ms: float
    # Denials go out while the request still writes the bars: measured from the request too.
    deny_p99_from_request_ms: float


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
    """One participant's event stream over a raw socket, followed in the background: when it opened (its
    first status), when a message arrived, when its decision (with a token, or a denial) arrived."""

    def __init__(self) -> None:
        self.accepted_at: float | None = None
        self.denied_at: float | None = None
        self.message_at: float | None = None
        self.gone = False
        self.opened = asyncio.Event()
        self.messaged = asyncio.Event()
        self.decided = asyncio.Event()
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
        await asyncio.wait_for(self.opened.wait(), 30)

    def _end(self, *, gone: bool) -> None:
        self.gone = gone
        for event in (self.opened, self.messaged, self.decided):
            event.set()

    async def _follow(self, reader: asyncio.StreamReader) -> None:
        seen = b""
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                self._end(gone=self.accepted_at is None and self.denied_at is None)
                return
            seen = seen[-256:] + chunk  # an event may straddle two reads
            if b"event: status" in seen:
                self.opened.set()  # its first status (waiting): the stream is open
            if self.message_at is None and b"event: message" in seen:
                self.message_at = time.monotonic()
                self.messaged.set()
            if b'"status":"accepted"' in seen and b'"token":"' in seen:
                self.accepted_at = time.monotonic()
                self._end(gone=False)
                return
            if b'"status":"denied"' in seen:
                self.denied_at = time.monotonic()
                self._end(gone=False)
                return
            if b"event: gone" in seen or b"event: error" in seen:
                self._end(gone=True)
                return

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


def _delays(moments: list[float | None], since: float) -> list[float]:
    return [max(0.0, moment - since) * 1000 for moment in moments if moment is not None]


async def _arrivals(events: list[asyncio.Event]) -> None:
    pending = [asyncio.create_task(event.wait()) for event in events]
    await asyncio.wait(pending, timeout=DELIVERY_DEADLINE_SECONDS)
    for task in pending:
        task.cancel()


@dataclass
class Asked:
    """An admin's request: when its response came, how long it took, what it answered."""

    asked: float
    answered: float
    ms: float
    body: dict[str, Any]


async def _ask(client: httpx.AsyncClient, url: str, body: dict[str, Any], owner: dict[str, str]) -> Asked:
    asked = time.monotonic()
    response = await client.post(url, json=body, headers=owner)
    answered = time.monotonic()
    response.raise_for_status()
    return Asked(asked, answered, round((answered - asked) * 1000, 1), dict(response.json()))


async def _speak_then_deny(
    client: httpx.AsyncClient, path: str, owner: dict[str, str], crowd: list[Stream]
) -> tuple[Asked, Asked]:
    """One message to everyone waiting, once every stream got it (or the deadline passed), deny-all."""
    gc.collect()
    gc.freeze()
    try:
        said = await _ask(client, f"{path}/waiting-participants/message", {"text": "We start in 5 minutes"}, owner)
        await _arrivals([s.messaged for s in crowd if not s.gone])
        denied = await _ask(client, f"{path}/waiting-participants/deny-all", {"reason": "Full"}, owner)
        await _arrivals([s.decided for s in crowd if not s.gone])
    finally:
        gc.unfreeze()
    return said, denied


async def _run(base: str, room_id: str, owner_cookie: str, count: int, pid: int, idle_seconds: float) -> TownHall:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/api/v1/rooms/{room_id}"
    streams = [Stream() for _ in range(count)]
    second = [Stream() for _ in range(count)]
    limit = asyncio.Semaphore(OPEN_CONCURRENCY)
    limits = httpx.Limits(max_connections=OPEN_CONCURRENCY, keepalive_expiry=KEEPALIVE_EXPIRY)
    owner = {"Cookie": owner_cookie}
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def join(n: int, crowd: list[Stream] = streams) -> None:
            async with limit:
                knocked = await client.post(f"{path}/request-entry", json={"username": f"Citizen {n}"})
                knocked.raise_for_status()
                await crowd[n].open(host, port, f"{path}/request-entry/events", knocked.json()["credential"])

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

        # The client's own 10,000 streams are long-lived: out of its collector's sight, so that a full
        # collection of the client's heap does not delay the timestamps it takes (the server's is measured).
        gc.collect()
        gc.freeze()
        asked, cpu_asked = time.monotonic(), cpu_seconds(pid)
        admitted = await client.post(f"{path}/waiting-participants/admit-all", headers=owner)
        answered = time.monotonic()
        admitted.raise_for_status()
        await _arrivals([s.decided for s in streams if not s.gone])
        delivery_cpu = cpu_seconds(pid) - cpu_asked
        gc.unfreeze()
        await asyncio.gather(*(s.close() for s in streams))

        # A second crowd: one message to them all, then deny-all.
        await asyncio.gather(*(join(n, second) for n in range(count)))
        said, denials = await _speak_then_deny(client, path, owner, second)
    delays = _delays([s.accepted_at for s in streams], answered)
    message_delays = _delays([s.message_at for s in second], said.answered)
    deny_delays = _delays([s.denied_at for s in second], denials.answered)
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
        message_ms=said.ms,
        message_delivered=len(message_delays),
        message_p50_ms=round(_percentile(message_delays, 0.50), 1),
        message_p99_ms=round(_percentile(message_delays, 0.99), 1),
        message_max_ms=round(max(message_delays, default=0.0), 1),
        deny_all_ms=denials.ms,
        denied=int(denials.body["denied"]),
        deny_delivered=len(deny_delays),
        deny_lost=sum(1 for s in second if s.denied_at is None and not s.gone),
        deny_p50_ms=round(_percentile(deny_delays, 0.50), 1),
        deny_p99_ms=round(_percentile(deny_delays, 0.99), 1),
        deny_max_ms=round(max(deny_delays, default=0.0), 1),
        deny_p99_from_request_ms=round(_percentile(_delays([s.denied_at for s in second], denials.asked), 0.99), 1),
    )
    await asyncio.gather(*(s.close() for s in second))
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
    print(
        f"    message to {count:,} waiting: answered in {result.message_ms} ms, "
        f"{result.message_delivered:,} delivered, "
        f"p50 {result.message_p50_ms} ms, p99 {result.message_p99_ms} ms; deny-all answered in {result.deny_all_ms} ms "
        f"({result.denied:,} denied), {result.deny_delivered:,} delivered, p50 {result.deny_p50_ms} ms, "
        f"p99 {result.deny_p99_ms} ms ({result.deny_p99_from_request_ms} ms from the request), lost {result.deny_lost}",
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
            f"8. town hall, message to {n:,} waiting: every stream got it, p99 <= {p99_target:,} ms after the request",
            found["message_delivered"] == n and found["message_p99_ms"] <= p99_target,
            f"{found['message_delivered']:,} of {n:,}, p99 {found['message_p99_ms']:,.0f} ms (max "
            f"{found['message_max_ms']:,.0f})",
        ),
        (
            f"8. town hall, deny-all of {n:,}: every denial delivered, p99 <= {p99_target:,} ms after deny-all",
            found["deny_delivered"] == n == found["denied"] and found["deny_p99_ms"] <= p99_target,
            f"{found['deny_delivered']:,} of {n:,}, p99 {found['deny_p99_ms']:,.0f} ms (max "
            f"{found['deny_max_ms']:,.0f}), deny-all answered in {found['deny_all_ms']:,.0f} ms",
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
