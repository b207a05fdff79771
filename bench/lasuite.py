"""La Suite Meet's surface (``/api/v1.0``) under load, beside meet's own API on the same server.

    uv run python -m bench.lasuite                    # wrk comparisons, then the town hall of 10,000 pollers
    uv run python -m bench.lasuite --quick            # 2-second measurements, a town hall of 1,000

1. The knock, the poll (1,000 credentials in turn) and the waiting list (1,000 waiting) through La Suite's
   paths and shapes, measured back to back with meet's own (target: within 1.2x per request). La Suite's
   waiting list is the whole list (1,000 entries); meet's own answers its first page (50).
2. The town hall through La Suite's surface: N people poll ``request-entry/`` as the app does (the next
   poll one second after each answer, never two at once), one worker holds the polls;
   reported: requests per waiting person per 15 s while nothing changes (target <= 1), the worker's RSS
   per held poll (target <= 20 KB), and after ``admit-all`` how long each acceptance took to arrive
   (target p99 <= 2 s), counted from the moment ``admit-all`` is sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
import uvloop

from bench.run import JSON, knock_load, machine, migrate, poll_load, production_env
from bench.seed import Seeded, create_sessions, fill_waiting_lists, lobby_credentials, seed_database
from bench.services import api_server, livekit_stub, start_local_postgres, start_local_redis
from bench.townhall import cpu_seconds, raise_open_files_limit, rss_kb
from bench.wrk import Load, Result, measure

RESULTS = Path(__file__).resolve().parent / "results"
OPEN_CONCURRENCY = 32
POLL_INTERVAL = 1.0  # the app's refetchInterval
DELIVERY_DEADLINE_SECONDS = 60
OPEN_DEADLINE = 240  # seconds for every poller to knock and start polling
PATIENCE_MARGIN = 30  # seconds a poll may take beyond the hold
MAX_REFUSED = 5  # answers other than 200 a poller takes (polling again, as the app does) before it gives up


def redis_pid(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def lasuite_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "MEET_LASUITE_API": "true"}


def compare(base: str, seeded: Seeded, workdir: Path, seconds: int, pids: dict[str, list[int]]) -> list[dict[str, Any]]:
    rooms = seeded.rooms
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    credentials = asyncio.run(lobby_credentials(base, rooms["poll"], 1_000))
    own_file = workdir / "credentials.txt"
    own_file.write_text("\n".join(credentials) + "\n")
    cookie_file = workdir / "credential-cookies.txt"
    cookie_file.write_text("\n".join(f"meet_lobby_{rooms['poll'].id}={c}" for c in credentials) + "\n")
    knock_room = rooms["knock"].id
    pairs: list[tuple[str, Load, Load, int]] = []
    for connections in (32, 8):
        la_knock = Load(f"/api/v1.0/rooms/{knock_room}/request-entry/", "POST", '{"username":"Bench"}', dict(JSON))
        pairs.append(("knock (new participant)", knock_load(seeded), la_knock, connections))
        # A poll without a recent answer (no poll mark): answered at once, as meet's own poll.
        la_poll = Load(
            f"/api/v1.0/rooms/{rooms['poll'].id}/request-entry/",
            "POST",
            '{"username":"Bench"}',
            dict(JSON),
            rotate_file=cookie_file,
            rotate_header="Cookie",
        )
        pairs.append(("poll (1,000 credentials in turn)", poll_load(seeded, own_file), la_poll, connections))
    waiting = rooms["wait-1000"].id
    own_list = Load(f"/api/v1/rooms/{waiting}/waiting-participants", headers=owner)
    la_list = Load(f"/api/v1.0/rooms/{waiting}/waiting-participants/", headers=owner)
    pairs.append(("waiting list, 1,000 waiting", own_list, la_list, 32))
    rows = []
    for name, own, lasuite, connections in pairs:
        mine = _measured(base, f"meet: {name}", own, connections, seconds, pids)
        theirs = _measured(base, f"La Suite: {name}", lasuite, connections, seconds, pids)
        rows.append(_row(name, connections, mine, theirs))
    return rows


def _measured(
    base: str, name: str, load: Load, connections: int, seconds: int, pids: dict[str, list[int]]
) -> tuple[Result, dict[str, float]]:
    """The load's result, and the CPU time it cost per request (ms) in the API's workers and in Redis:
    on a shared machine, CPU per request is steadier than requests per second."""
    before = {part: sum(cpu_seconds(pid) for pid in group) for part, group in pids.items()}
    result = measure(base, name, load, connections=connections, seconds=seconds)
    spent = {part: sum(cpu_seconds(pid) for pid in group) - before[part] for part, group in pids.items()}
    per_request = {f"{part}_cpu_ms": round(1000 * cpu / max(result.requests, 1), 3) for part, cpu in spent.items()}
    print(f"    CPU per request: {per_request}", flush=True)
    return result, per_request


def _row(
    name: str, connections: int, mine: tuple[Result, dict[str, float]], theirs: tuple[Result, dict[str, float]]
) -> dict[str, Any]:
    own, own_cpu = mine
    lasuite, lasuite_cpu = theirs
    own_total, lasuite_total = sum(own_cpu.values()), sum(lasuite_cpu.values())
    return {
        "scenario": name,
        "connections": connections,
        "meet": {**asdict(own), **own_cpu},
        "lasuite": {**asdict(lasuite), **lasuite_cpu},
        "time_per_request_ratio": round(own.rps / lasuite.rps, 2) if lasuite.rps else math.inf,
        "cpu_per_request_ratio": round(lasuite_total / own_total, 2) if own_total else math.inf,
    }


@dataclass
class TownHall:
    pollers: int
    opened: int
    hold_seconds: float
    idle_seconds: float
    idle_requests: int
    requests_per_person_per_15s: float
    rss_per_held_poll_kb: float
    idle_cpu_percent: float
    admit_all_ms: float
    delivery_cpu_ms: float  # the worker's CPU from admit-all sent to the last acceptance (or the deadline)
    delivery_client_cpu_ms: float  # this process's (the pollers') CPU meanwhile: near 1,000 per second, they lag
    delivery_requests: int  # polls sent from admit-all on (the held ones were sent before)
    accepted_by_later_polls: int  # acceptances brought by a poll sent after admit-all (not held at the time)
    delivered: int
    lost: int
    delivery_first_ms: float  # the first acceptance: how long admit-all took to reach its first held poll
    delivery_p50_ms: float
    delivery_p90_ms: float
    delivery_p99_ms: float
    delivery_max_ms: float
    open_seconds: float
    failures: dict[str, int]
    refused: dict[str, int]  # answers other than 200, each followed by the next poll as the app does


class Poller:
    """One waiting person's browser: a keep-alive connection, its cookies, the app's poll cadence."""

    def __init__(self, host: str, port: int, path: str, n: int) -> None:
        self.host, self.port, self.path, self.n = host, port, path, n
        self.cookies: dict[str, str] = {}
        self.requests = 0
        self.refused: Counter[str] = Counter()  # answers other than 200 (the app polls again a second later)
        self.accepted_at: float | None = None
        self.sent_at = 0.0
        self.accepted_request_sent_at = 0.0  # when the request that brought the acceptance was sent
        self.polling = asyncio.Event()  # its second poll is on its way (the server may hold it)
        self.failed: str | None = None
        self.connection: asyncio.StreamWriter | None = None

    async def run(self, opened: asyncio.Semaphore, patience: float) -> None:
        """``patience``: the longest a poll may take (the hold and a margin) before this browser gives up."""
        try:
            async with opened, asyncio.timeout(patience):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                await self._poll(reader, writer)  # the knock: answered at once
            while self.accepted_at is None:
                self.polling.set()
                async with asyncio.timeout(patience):
                    await self._poll(reader, writer)
                if self.accepted_at is None:
                    # The app's refetchInterval: TanStack Query (5.101) arms its one-second timer again on
                    # every update of the query, so the next poll leaves a second after this answer.
                    await asyncio.sleep(POLL_INTERVAL)
            # A browser keeps its connection once answered (the server closes it when idle): closed once
            # the town hall is over, not in the middle of the delivery being measured.
            self.connection = writer
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as error:
            self.failed = repr(error)
            self.polling.set()

    async def _poll(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        body = json.dumps({"username": f"Citizen {self.n}"}).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
        )
        writer.write(head.encode() + body)
        self.requests += 1
        self.sent_at = time.monotonic()
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie":
                key, _, rest = value.strip().partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        answer = await reader.readexactly(length)
        if not lines[0].startswith("HTTP/1.1 200"):
            if sum(self.refused.values()) >= MAX_REFUSED:
                raise ValueError(f"poll refused: {lines[0]} {answer[:120]!r}")
            self.refused[f"{lines[0][9:]} {answer[:100]!r}"] += 1
        if b'"status":"accepted"' in answer and b'"token":"' in answer:
            self.accepted_at = time.monotonic()
            self.accepted_request_sent_at = self.sent_at


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def _town_hall(
    base: str, room_id: str, owner: str, count: int, pid: int, idle: float, hold: float, *, trace: bool
) -> TownHall:
    url = urlsplit(base)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    path = f"/api/v1.0/rooms/{room_id}/request-entry/"
    pollers = [Poller(host, port, path, n) for n in range(count)]
    await asyncio.sleep(1)
    rss_before = rss_kb(pid)
    if trace:
        os.kill(pid, signal.SIGUSR1)  # tracemalloc's first snapshot (bench/tracemalloc_hook)
    started = time.monotonic()
    limit = asyncio.Semaphore(OPEN_CONCURRENCY)
    tasks = [asyncio.create_task(p.run(limit, patience=hold + PATIENCE_MARGIN)) for p in pollers]
    # Bounded: pollers not polling by then count as not opened (their failure says why, if any).
    _, late = await asyncio.wait([asyncio.create_task(p.polling.wait()) for p in pollers], timeout=OPEN_DEADLINE)
    for waiter in late:
        waiter.cancel()
    open_seconds = time.monotonic() - started
    await asyncio.sleep(3)  # the last polls reach the server and are held
    rss_held = rss_kb(pid)
    if trace:
        os.kill(pid, signal.SIGUSR1)  # where the memory of the held polls went
        await asyncio.sleep(5)
    # The pollers' process must not pause its 10,000 browsers at once (none of a real town hall's does):
    # a collection of its own, with everything the pollers hold, stalled them for 0.3 s and sent the polls
    # due meanwhile together, as a burst landing on the admit-all. Collected once here, then not at all
    # until the delivery is over; the client for admit-all is made now, not in the second before.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            before = sum(p.requests for p in pollers)
            cpu_before, idle_started = cpu_seconds(pid), time.monotonic()
            await asyncio.sleep(idle)
            idle_window = time.monotonic() - idle_started
            idle_cpu = (cpu_seconds(pid) - cpu_before) / idle_window
            idle_requests = sum(p.requests for p in pollers) - before
            opened = sum(1 for p in pollers if p.failed is None and p.polling.is_set())
            cpu_at_admission, client_cpu_at_admission = cpu_seconds(pid), time.process_time()
            requests_at_admission = sum(p.requests for p in pollers)
            asked = time.monotonic()
            admitted = await client.post(
                f"/api/v1/rooms/{room_id}/waiting-participants/admit-all", headers={"Cookie": owner}
            )
            answered = time.monotonic()
            admitted.raise_for_status()
        _, pending = await asyncio.wait(tasks, timeout=DELIVERY_DEADLINE_SECONDS)
        delivery_cpu = cpu_seconds(pid) - cpu_at_admission
        delivery_client_cpu = time.process_time() - client_cpu_at_admission
        delivery_requests = sum(p.requests for p in pollers) - requests_at_admission
        for task in pending:
            task.cancel()
        for poller in pollers:
            if poller.connection is not None:
                poller.connection.close()
    finally:
        gc.enable()
        gc.unfreeze()
    # From the moment admit-all is sent: acceptances start arriving before its own answer does.
    delays = [max(0.0, p.accepted_at - asked) * 1000 for p in pollers if p.accepted_at is not None]
    return TownHall(
        pollers=count,
        opened=opened,
        hold_seconds=hold,
        idle_seconds=round(idle_window, 1),
        idle_requests=idle_requests,
        requests_per_person_per_15s=round(idle_requests / max(opened, 1) / (idle_window / 15), 2),
        rss_per_held_poll_kb=round((rss_held - rss_before) / max(opened, 1), 1),
        idle_cpu_percent=round(100 * idle_cpu, 2),
        admit_all_ms=round((answered - asked) * 1000, 1),
        delivery_cpu_ms=round(delivery_cpu * 1000, 1),
        delivery_client_cpu_ms=round(delivery_client_cpu * 1000, 1),
        delivery_requests=delivery_requests,
        accepted_by_later_polls=sum(1 for p in pollers if p.accepted_at and p.accepted_request_sent_at >= asked),
        delivered=len(delays),
        lost=count - len(delays),
        delivery_first_ms=round(min(delays, default=0.0), 1),
        delivery_p50_ms=round(_percentile(delays, 0.5), 1),
        delivery_p90_ms=round(_percentile(delays, 0.9), 1),
        delivery_p99_ms=round(_percentile(delays, 0.99), 1),
        delivery_max_ms=round(max(delays, default=0.0), 1),
        open_seconds=round(open_seconds, 1),
        failures=dict(Counter(p.failed[:200] for p in pollers if p.failed is not None)),
        refused=dict(sum((p.refused for p in pollers), Counter())),
    )


def town_hall(
    env: dict[str, str],
    seeded: Seeded,
    workdir: Path,
    count: int,
    idle: float,
    *,
    trace: bool = False,
    hold_seconds: float | None = None,
) -> dict[str, Any]:
    if hold_seconds is not None:
        env = {**env, "MEET_LASUITE_POLL_HOLD_SECONDS": str(hold_seconds)}
    hold = float(env.get("MEET_LASUITE_POLL_HOLD_SECONDS", "20"))
    env = {**env, "MEET_LOBBY_WAITING_TIMEOUT_SECONDS": "30"}
    traced = workdir / "tracemalloc"
    if trace:  # slower: the RSS and the rates of such a run are not the bench's figures
        hook = str(Path(__file__).resolve().parent / "tracemalloc_hook")
        path = os.pathsep.join(part for part in (hook, os.environ.get("PYTHONPATH", "")) if part)
        env = {**env, "PYTHONPATH": path, "BENCH_TRACEMALLOC_OUT": str(traced)}
    owner = f"meet_session={seeded.sessions['bench-owner']}"
    print(f"town hall through La Suite's surface: {count:,} pollers, one worker ...", flush=True)
    with api_server(env, 1, workdir) as api:
        pid = api.workers[0] if api.workers else api.process.pid
        room = str(seeded.rooms["townhall"].id)
        found = asdict(uvloop.run(_town_hall(api.base, room, owner, count, pid, idle, hold, trace=trace)))
    print(f"  {found}", flush=True)
    if trace:
        lines = Path(f"{traced}.{pid}").read_text().splitlines()
        print("  where the memory of the held polls went (tracemalloc: bytes, objects, where):", flush=True)
        for line in lines:
            print(f"    {line}", flush=True)
        found["tracemalloc"] = lines
    return found


def targets(rows: list[dict[str, Any]], town: dict[str, Any]) -> list[tuple[str, bool, str]]:
    found = [
        (
            f"La Suite {row['scenario']} (c={row['connections']}) within 1.2x of meet's own per request",
            row["cpu_per_request_ratio"] <= 1.2,
            f"{row['lasuite']['rps']:.0f} vs {row['meet']['rps']:.0f} req/s: {row['time_per_request_ratio']}x; "
            f"CPU per request (API + Redis) {row['cpu_per_request_ratio']}x",
        )
        for row in rows
    ]
    if town:
        n = town["pollers"]
        found += [
            (
                f"town hall, {n:,} pollers: every acceptance delivered, p99 <= 2,000 ms after admit-all",
                town["delivered"] == n and town["delivery_p99_ms"] <= 2000,
                f"{town['delivered']:,} of {n:,}, p99 {town['delivery_p99_ms']:,.0f} ms",
            ),
            (
                "town hall: at most one request per waiting person per 15 s while idle",
                town["requests_per_person_per_15s"] <= 1,
                f"{town['requests_per_person_per_15s']}",
            ),
            (
                "town hall: <= 20 KB of RSS per held poll",
                town["rss_per_held_poll_kb"] <= 20,
                f"{town['rss_per_held_poll_kb']} KB",
            ),
        ]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2-second measurements, a town hall of 1,000")
    parser.add_argument("--townhall", type=int, default=0, help="pollers in the town hall (10,000; quick 1,000)")
    parser.add_argument("--idle-seconds", type=float, default=45)
    parser.add_argument("--no-compare", action="store_true", help="only the town hall")
    parser.add_argument("--no-townhall", action="store_true", help="only the comparisons")
    parser.add_argument("--hold", type=float, help="MEET_LASUITE_POLL_HOLD_SECONDS for the town hall (default 20)")
    parser.add_argument("--tracemalloc", action="store_true", help="where the held polls' memory goes (slower)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds = 2
    args.townhall = 0 if args.no_townhall else args.townhall or (1_000 if args.quick else 10_000)
    if raise_open_files_limit() < args.townhall + 1_000:
        print("the open files hard limit is too low (ulimit -Hn)", file=sys.stderr)
        return 2
    info = machine()
    print(f"on {info['cpu']} ({info['cores']} cores), load {info['load_average_before']}", flush=True)
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="meet-bench-lasuite-")))
        postgres = stack.enter_context(start_local_postgres())
        redis = stack.enter_context(start_local_redis())
        livekit = stack.enter_context(livekit_stub(workdir))
        env = lasuite_env(production_env(postgres.url(), redis.url, livekit))
        migrate(env)
        seeded = asyncio.run(seed_database(postgres.url()))
        asyncio.run(create_sessions(redis.url, seeded))
        rows: list[dict[str, Any]] = []
        if not args.no_compare:
            asyncio.run(fill_waiting_lists(redis.url, seeded))
            with api_server(env, args.workers, workdir) as api:
                pids = {"api": api.workers or [api.process.pid], "redis": [redis_pid(redis.url)]}
                rows = compare(api.base, seeded, workdir, args.seconds, pids)
        town: dict[str, Any] = {}
        if args.townhall > 0:
            town = town_hall(
                env, seeded, workdir, args.townhall, args.idle_seconds, trace=args.tracemalloc, hold_seconds=args.hold
            )
    report = {"machine": info, "workers": args.workers, "comparisons": rows, "town_hall": town}
    report["targets"] = [{"target": t, "met": ok, "found": f} for t, ok, f in targets(rows, town)]
    RESULTS.mkdir(parents=True, exist_ok=True)
    kind = "quick" if args.quick else "latest"
    if not rows or not town:  # a partial run has a file of its own: the full run's stays
        kind += f"-townhall-{args.townhall}" if town else "-compare"
    (RESULTS / f"lasuite-{kind}.json").write_text(json.dumps(report, indent=2) + "\n")
    for row in report["targets"]:
        print(f"  [{'met' if row['met'] else 'MISSED'}] {row['target']}: {row['found']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
