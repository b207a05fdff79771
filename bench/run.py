"""``make bench``: the API as in production (PostgreSQL, Redis, production profile, several workers) under wrk.

Every figure is also given as a ratio to two reference endpoints of the same server, measured in the
same run (before and after the scenarios), so results compare across noisy machines. Writes
bench/results/latest.{json,md} and the latest results in docs/performance.md.

    uv run python -m bench.run              # the whole run (about 5 minutes on 2 cores)
    uv run python -m bench.run --quick      # shorter measurements, no worker sweep: a smoke test
    uv run python -m bench.run --serve      # start everything, print how to reach it, wait for Ctrl-C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from tests.support.receiver import webhook_receiver

from bench.bearer import bearer_scenarios
from bench.profile import profile
from bench.report import markdown, targets, update_performance_page, with_ratios
from bench.seed import (
    WAITING_SIZES,
    Seeded,
    add_rooms,
    add_unrelated_keys,
    create_sessions,
    fill_waiting_lists,
    lobby_credentials,
    seed_database,
    webhook_deliveries,
)
from bench.services import (
    ROOT,
    api_server,
    livekit_stub,
    scaled_out_services,
    start_local_postgres,
    start_local_redis,
)
from bench.townhall import raise_open_files_limit, town_hall
from bench.webhooks import run as outbound_webhooks
from bench.wrk import Load, Result, measure

RESULTS = ROOT / "bench" / "results"
API_KEY, API_SECRET = "bench-key", "bench-secret-" + "x" * 32
WORKER_CANDIDATES = (1, 2, 3, 4)
JSON = {"Content-Type": "application/json"}


def production_env(database_url: str, redis_url: str, livekit_url: str) -> dict[str, str]:
    """The production profile; only the lobby's anti-abuse limits are lifted (all load comes from one address)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEET_")}
    env.update(
        MEET_PROFILE="production",
        MEET_PUBLIC_URL="https://meet.bench.invalid",
        MEET_DATABASE_URL=database_url,
        MEET_REDIS_URL=redis_url,
        MEET_SECRET_KEY=secrets.token_hex(32),
        MEET_LIVEKIT_URL=livekit_url,
        MEET_LIVEKIT_API_KEY=API_KEY,
        MEET_LIVEKIT_API_SECRET=API_SECRET,
        MEET_COOKIE_SECURE="true",
        MEET_LOBBY_KNOCKS_PER_MINUTE="100000000",
        MEET_LOBBY_NEW_PARTICIPANTS_PER_MINUTE_PER_ADDRESS="100000000",
        MEET_LOBBY_WAITING_TIMEOUT_SECONDS="3600",  # pollers seeded before their scenario stay listed
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "meet.entrypoints.cli", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": wrk_version.split(" [")[0].strip(),
        "load_average_before": round(os.getloadavg()[0], 2),
        "cpu_busy_before_percent": cpu_busy(2.0),
    }


def cpu_busy(seconds: float) -> float:
    """How busy the machine's CPUs were over ``seconds`` (other engineers' test runs, ...), in percent."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = values[3] + values[4]
        return sum(values), idle

    total_a, idle_a = sample()
    time.sleep(seconds)
    total_b, idle_b = sample()
    return round(100 * (1 - (idle_b - idle_a) / max(total_b - total_a, 1)), 1)


def choose_workers(env: dict[str, str], seeded: Seeded, logdir: Path, servers: list[str]) -> list[dict[str, Any]]:
    """Token-only and join throughput for each worker count (and server): the basis of the choice."""
    sweep = []
    join = Load(f"/api/v1/rooms/{seeded.rooms['public'].slug}")
    for server in servers:
        for workers in WORKER_CANDIDATES:
            with api_server(env, workers, logdir, server=server) as api:
                token = measure(api.base, f"{server} {workers}w: token only", Load("/bench/token"), seconds=3)
                opened = measure(api.base, f"{server} {workers}w: anonymous join", join, seconds=3)
            sweep.append(
                {
                    "server": server,
                    "workers": workers,
                    "token_rps": token.rps,
                    "join_rps": opened.rps,
                    "join_p50_ms": opened.p50_ms,
                    "join_p99_ms": opened.p99_ms,
                }
            )
    return sweep


def pick_workers(sweep: list[dict[str, Any]]) -> int:
    """The fewest workers whose join req/s is within 5% of the best: more processes only add memory,
    database connections and context switches once the cores are busy (3-second runs differ by that much)."""
    best = max(row["join_rps"] for row in sweep)
    return int(min(row["workers"] for row in sweep if row["join_rps"] >= 0.95 * best))


def references(base: str, seconds: int, when: str) -> list[Result]:
    return [
        measure(base, f"reference: constant ({when})", Load("/bench/constant"), seconds=seconds),
        measure(base, f"reference: token only ({when})", Load("/bench/token"), seconds=seconds),
    ]


def scenarios(base: str, seeded: Seeded, workdir: Path, seconds: int) -> list[Result]:
    rooms, results = seeded.rooms, []
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    member = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}

    public = Load(f"/api/v1/rooms/{rooms['public'].slug}")
    results.append(measure(base, "1. anonymous join, public room", public, seconds=seconds))
    results.append(measure(base, "1. anonymous join, public room", public, connections=128, seconds=seconds))
    restricted = Load(f"/api/v1/rooms/{rooms['restricted'].id}", headers=member)
    results.append(measure(base, "2. member join, restricted room", restricted, seconds=seconds))

    # At 32 connections the server is saturated and latency is set by throughput (p50 ~ 32 / req/s);
    # 8 connections show the knock's and the poll's own latency below saturation.
    knock = knock_load(seeded)
    credentials = workdir / "credentials.txt"
    credentials.write_text("\n".join(asyncio.run(lobby_credentials(base, rooms["poll"], 1_000))) + "\n")
    poll = poll_load(seeded, credentials)
    for connections in (32, 8):
        results.append(
            measure(base, "3. lobby knock (new participant)", knock, connections=connections, seconds=seconds)
        )
        results.append(
            measure(base, "3. lobby poll (1,000 credentials in turn)", poll, connections=connections, seconds=seconds)
        )

    for size in WAITING_SIZES:
        listing = Load(f"/api/v1/rooms/{rooms[f'wait-{size}'].id}/waiting-participants", headers=owner)
        results.append(measure(base, f"4. waiting list, first page, {size:,} waiting", listing, seconds=seconds))

    names = [room.sfu_room_name for room in rooms.values()]
    (workdir / "webhooks-warmup.txt").write_text("\n".join(webhook_deliveries(names, 4_000, API_KEY, API_SECRET)))
    (workdir / "webhooks.txt").write_text("\n".join(webhook_deliveries(names, 25_000, API_KEY, API_SECRET)))

    def webhook(path: Path) -> Load:
        headers = {"Content-Type": "application/webhook+json"}
        return Load("/api/v1/webhooks/livekit", "POST", headers=headers, rotate_file=path, rotate_header="webhook")

    result = measure(
        base,
        "5. webhook ingestion (participant_joined)",
        webhook(workdir / "webhooks.txt"),
        seconds=seconds,
        warmup_load=webhook(workdir / "webhooks-warmup.txt"),
    )
    if result.requests > 25_000:
        result.name += " (ids replayed)"
    results.append(result)
    return results


def poll_load(seeded: Seeded, credentials: Path) -> Load:
    return Load(
        f"/api/v1/rooms/{seeded.rooms['poll'].id}/request-entry",
        method="POST",
        body='{"username":"Bench"}',
        headers=JSON,
        rotate_file=credentials,
        rotate_header="X-Lobby-Credential",
    )


def side_by_side(
    env: dict[str, str], scaled: dict[str, str], seeded: Seeded, workdir: Path, workers: int, server: str, seconds: int
) -> list[dict[str, Any]]:
    """Scenario 7: join, knock, poll and the waiting list on one Redis and PostgreSQL directly, and on a
    Redis Cluster and PgBouncer, the two servers up together and measured back to back per scenario."""
    rooms = seeded.rooms
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    member = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}
    rows = []
    with (
        api_server(env, workers, workdir, server=server) as single,
        api_server(scaled, workers, workdir, server=server) as spread,
    ):
        polls = {}
        for label, api in (("single", single), ("scaled", spread)):
            polls[label] = workdir / f"credentials-7-{label}.txt"
            polls[label].write_text("\n".join(asyncio.run(lobby_credentials(api.base, rooms["poll"], 1_000))) + "\n")
        loads = [
            ("anonymous join, public room", {label: Load(f"/api/v1/rooms/{rooms['public'].slug}") for label in polls}),
            (
                "member join, restricted room",
                {label: Load(f"/api/v1/rooms/{rooms['restricted'].id}", headers=member) for label in polls},
            ),
            ("lobby knock (new participant)", {label: knock_load(seeded) for label in polls}),
            ("lobby poll (1,000 credentials in turn)", {label: poll_load(seeded, polls[label]) for label in polls}),
            (
                "waiting list, first page, 1,000 waiting",
                {
                    label: Load(f"/api/v1/rooms/{rooms['wait-1000'].id}/waiting-participants", headers=owner)
                    for label in polls
                },
            ),
        ]
        for name, load in loads:
            one = measure(single.base, f"7. {name}: one Redis, PostgreSQL", load["single"], seconds=seconds)
            many = measure(spread.base, f"7. {name}: Redis Cluster, PgBouncer", load["scaled"], seconds=seconds)
            rows.append(
                {
                    "scenario": name,
                    "single": asdict(one),
                    "scaled": asdict(many),
                    "rps_ratio": round(many.rps / one.rps, 3) if one.rps else 0.0,
                    "p50_ratio": round(many.p50_ms / one.p50_ms, 3) if one.p50_ms else 0.0,
                    "p99_ratio": round(many.p99_ms / one.p99_ms, 3) if one.p99_ms else 0.0,
                }
            )
    return rows


def scaled_out_env(env: dict[str, str], database_url: str, cluster_url: str) -> dict[str, str]:
    return {
        **env,
        "MEET_DATABASE_URL": database_url,
        "MEET_DATABASE_PGBOUNCER": "true",
        "MEET_REDIS_URL": cluster_url,
        "MEET_REDIS_CLUSTER": "true",
    }


def knock_load(seeded: Seeded) -> Load:
    path = f"/api/v1/rooms/{seeded.rooms['knock'].id}/request-entry"
    return Load(path, method="POST", body='{"username":"Bench"}', headers=JSON)


def growth(base: str, seeded: Seeded, dsn: str, redis_url: str, seconds: int) -> list[Result]:
    """Scenario 6: the same requests before and after 100,000 more rooms / Redis keys, back to back."""
    rooms = seeded.rooms
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    public = Load(f"/api/v1/rooms/{rooms['public'].slug}")
    listing = Load(f"/api/v1/rooms/{rooms['wait-10'].id}/waiting-participants", headers=owner)
    results = [measure(base, "6. join, 10 rooms in the database", public, seconds=seconds)]
    asyncio.run(add_rooms(dsn, 100_000))
    results.append(measure(base, "6. join, 100,010 rooms in the database", public, seconds=seconds))
    results.append(measure(base, "6. waiting list (10 waiting), before Redis keys", listing, seconds=seconds))
    asyncio.run(add_unrelated_keys(redis_url, 100_000))
    results.append(measure(base, "6. join, + 100,000 unrelated Redis keys", public, seconds=seconds))
    results.append(measure(base, "6. waiting list (10 waiting), + 100,000 Redis keys", listing, seconds=seconds))
    return results


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    # Stop once: Ctrl-C reaches both `uv run` and this process, and uv forwards it again; a second
    # interrupt in the middle of the clean-up would leave servers running.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5, help="duration of each measurement (whole seconds)")
    parser.add_argument("--workers", type=int, default=0, help="skip the worker sweep and use this many workers")
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn", help="server for scenarios")
    parser.add_argument("--quick", action="store_true", help="2-second measurements, 2 workers, no profiles")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profiles")
    parser.add_argument("--no-readme", action="store_true", help="do not write the table in docs/performance.md")
    parser.add_argument("--serve", action="store_true", help="start everything and wait (Ctrl-C stops it)")
    parser.add_argument("--townhall-only", action="store_true", help="only the town hall (scenario 8), no report files")
    parser.add_argument("--townhall", type=int, default=0, help="open streams of the town hall (10,000; quick 1,000)")
    parser.add_argument("--idle-seconds", type=float, default=0, help="idle CPU window of the town hall (30; quick 26)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.workers, args.no_profile = 2, args.workers or 2, True
    args.townhall = args.townhall or (1_000 if args.quick else 10_000)
    # At least one keep-alive period (25 s), so that every stream's keep-alive is in the window.
    args.idle_seconds = args.idle_seconds or (26 if args.quick else 30)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    if raise_open_files_limit() < args.townhall + 1_000:
        print(f"the open files hard limit is too low for {args.townhall:,} streams (ulimit -Hn)", file=sys.stderr)
        return 2
    info = machine()
    print(f"meet benchmark on {info['cpu']} ({info['cores']} cores), load {info['load_average_before']}, "
          f"CPU busy before start {info['cpu_busy_before_percent']}%", flush=True)  # fmt: skip
    if info["cpu_busy_before_percent"] > 25:
        print("  WARNING: the machine is busy: figures will be low and noisy", flush=True)
    started = time.monotonic()
    report = run_all(args)
    if report is None:
        return 0
    info["load_average_after"] = round(os.getloadavg()[0], 2)
    info["cpu_busy_after_percent"] = cpu_busy(2.0)  # everything of ours is stopped: anyone else still busy?
    info["duration_seconds"] = round(time.monotonic() - started)
    report["machine"] = info
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "latest"  # a smoke run never replaces the reference results
    (RESULTS / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS / f"{stem}.md").write_text(f"# {stem.title()} benchmark\n\n" + table)
    if not args.no_readme and not args.quick:
        update_performance_page(table)
    print("\n" + table)
    return 0


def run_all(args: argparse.Namespace) -> dict[str, Any] | None:
    """Services up, data in, the worker count chosen, every scenario measured; everything stopped on the way out."""
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="meet-bench-")))
        postgres = stack.enter_context(start_local_postgres())
        redis = stack.enter_context(start_local_redis())
        livekit = stack.enter_context(livekit_stub(workdir))
        env = production_env(postgres.url(), redis.url, livekit)
        migrate(env)
        seeded = asyncio.run(seed_database(postgres.url()))
        asyncio.run(create_sessions(redis.url, seeded))
        if not args.townhall_only:
            print("filling the waiting lists ...", flush=True)
            asyncio.run(fill_waiting_lists(redis.url, seeded))
        if args.serve:
            serve(env, seeded, workdir, args.workers or 2, args.server)
            return None
        if args.townhall_only:
            town_hall_scenario(env, seeded, workdir, args)
            return None
        sweep: list[dict[str, Any]] = []
        workers = args.workers
        if not workers:
            servers = [args.server]
            if args.server == "uvicorn" and importlib.util.find_spec("granian") is not None:
                servers.append("granian")  # compared when installed, e.g. uv run --with granian ...
            print("choosing the worker count (token-only and join, 3 s each):", flush=True)
            sweep = choose_workers(env, seeded, workdir, servers)
            workers = pick_workers([row for row in sweep if row["server"] == args.server])
        print(f"scenarios, {args.server} with {workers} worker(s), {args.seconds} s each:", flush=True)
        profiles: dict[str, Any] = {}
        with api_server(env, workers, workdir, server=args.server) as api:
            results = references(api.base, args.seconds, "start")
            results += scenarios(api.base, seeded, workdir, args.seconds)
            results += bearer_scenarios(api.base, env, seeded, args.seconds)
            if not args.no_profile and api.workers:
                print("profiling one worker (py-spy, 5 s each): anonymous join, knock", flush=True)
                RESULTS.mkdir(parents=True, exist_ok=True)
                join = Load(f"/api/v1/rooms/{seeded.rooms['public'].slug}")
                profiles["join"] = profile(api.base, join, api.workers[0], 5, RESULTS / "profile-join.txt")
                knock = knock_load(seeded)
                profiles["knock"] = profile(api.base, knock, api.workers[0], 5, RESULTS / "profile-knock.txt")
            dsn = postgres.url().replace("postgresql+asyncpg://", "postgresql://")
            results += growth(api.base, seeded, dsn, redis.url, args.seconds)
            results += references(api.base, args.seconds, "end")
        scaled_out = scaled_out_scenario(postgres, env, seeded, workdir, workers, args)
        town = town_hall_scenario(env, seeded, workdir, args)
        print("outbound webhooks: a burst through the outbox, then a paced flow (bench/webhooks.py):", flush=True)
        with webhook_receiver() as receiver:
            outbound = asyncio.run(outbound_webhooks(postgres.url(), receiver, 2_000, 100.0, 1.0))
    return {
        "server": args.server,
        "workers": workers,
        "seconds_per_measurement": args.seconds,
        "connections": 32,
        "worker_sweep": sweep,
        "references": with_ratios(results),
        "results": [asdict(result) for result in results],
        "targets": targets(results, town),
        "town_hall": town,
        "profiles": profiles,
        "scaled_out": scaled_out,
        "outbound_webhooks": outbound,
    }


def scaled_out_scenario(
    postgres: Any, env: dict[str, str], seeded: Seeded, workdir: Path, workers: int, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Scenario 7 on a Redis Cluster and PgBouncer started for it (and stopped after it)."""
    print("scaled out: a Redis Cluster (3 masters, 1 replica each) and PgBouncer, side by side:", flush=True)
    with scaled_out_services(postgres) as (bouncer, cluster):
        asyncio.run(create_sessions(cluster.url, seeded, cluster=True))
        asyncio.run(fill_waiting_lists(cluster.url, seeded, cluster=True))
        scaled = scaled_out_env(env, bouncer.url(), cluster.url)
        return side_by_side(env, scaled, seeded, workdir, workers, args.server, args.seconds)


def town_hall_scenario(env: dict[str, str], seeded: Seeded, workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Scenario 8 on its own server: one worker, the lobby's default timeouts (30 s waiting, 25 s keep-alive)."""
    env = {**env, "MEET_LOBBY_WAITING_TIMEOUT_SECONDS": "30"}
    owner = f"meet_session={seeded.sessions['bench-owner']}"
    with api_server(env, 1, workdir, server=args.server) as api:
        pid = api.workers[0] if api.workers else api.process.pid
        return town_hall(api.base, str(seeded.rooms["townhall"].id), owner, args.townhall, pid, args.idle_seconds)


def serve(env: dict[str, str], seeded: Seeded, workdir: Path, workers: int, server: str) -> None:
    """Everything up, for probing by hand (wrk, curl, py-spy); Ctrl-C stops and removes it all."""
    with api_server(env, workers, workdir, server=server) as api:
        print(f"API: {api.base} (workers {api.workers}); log: {api.log}")
        for key, room in seeded.rooms.items():
            print(f"  room {key:<12} id {room.id} slug {room.slug}")
        for sub, session in seeded.sessions.items():
            print(f"  {sub}: Cookie: meet_session={session}")
        print("Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while api.process.poll() is None:
                time.sleep(1)


if __name__ == "__main__":
    raise SystemExit(main())
