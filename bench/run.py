"""``make bench``: the API as in production (PostgreSQL, Redis, production profile, several workers) under wrk.

Every figure is also given as a ratio to two reference endpoints of the same server, measured in the
same run, so results compare across machines. Writes bench/results/latest.{json,md} and the README's
performance section.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from livekit.api import AccessToken
from tests.support.livekit_server import run_livekit_server
from tests.support.services import free_port, start_postgres, start_redis

from bench.seed import (
    WAITING_SIZES,
    Seeded,
    add_rooms,
    add_unrelated_keys,
    create_sessions,
    fill_waiting_lists,
    seed_database,
)
from meet.domain.rooms.model import Room

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LUA = ROOT / "bench" / "lua" / "scenario.lua"
README = ROOT / "README.md"
API_KEY, API_SECRET = "bench-key", "bench-secret-" + "x" * 32
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    ratio_constant: float = 0.0
    ratio_token: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Load:
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rotate_file: Path | None = None
    rotate_header: str | None = None


def wrk(base: str, load: Load, *, connections: int, seconds: float, threads: int = 2) -> dict[str, Any]:
    env = {**os.environ, "WRK_METHOD": load.method}
    if load.body is not None:
        env["WRK_BODY"] = load.body
    env["WRK_HEADERS"] = "\n".join(f"{k}: {v}" for k, v in load.headers.items())
    if load.rotate_file:
        env["WRK_ROTATE_FILE"] = str(load.rotate_file)
        env["WRK_ROTATE_HEADER"] = load.rotate_header or ""
    duration = f"-d{max(1, round(seconds))}s"
    command = ["wrk", f"-t{threads}", f"-c{connections}", duration, "--timeout", "5s", "-s", str(LUA), base + load.path]
    output = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    match = re.search(r"^WRK_JSON (.*)$", output, re.MULTILINE)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def measure(
    base: str, name: str, load: Load, *, connections: int = 32, seconds: float = 5.0, warmup: float = 1.0
) -> Result:
    if warmup:
        wrk(base, load, connections=connections, seconds=warmup)
    data = wrk(base, load, connections=connections, seconds=seconds)
    errors = sum(int(data[k]) for k in ("errors_connect", "errors_read", "errors_write", "errors_timeout", "non_2xx"))
    result = Result(
        name=name,
        connections=connections,
        rps=float(data["rps"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        errors=errors,
        requests=int(data["requests"]),
    )
    print(f"  {name:<48} c={connections:<4} {result.rps:>9.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
          f"p99 {result.p99_ms:6.2f} ms  errors {errors}", flush=True)  # fmt: skip
    return result


@contextlib.contextmanager
def api_server(env: dict[str, str], workers: int) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench.app:create", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/bench/constant", timeout=1).status_code == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError("the API exited during start-up")
            time.sleep(0.2)
        else:
            raise RuntimeError("the API did not start within 60 s")
        time.sleep(0.5 * workers)  # let every worker finish its start-up
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 15)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)


def production_env(database_url: str, redis_url: str, livekit_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEET_")}
    env.update(
        MEET_PROFILE="production",
        MEET_DATABASE_URL=database_url,
        MEET_DATABASE_POOL_SIZE="10",
        MEET_REDIS_URL=redis_url,
        MEET_SECRET_KEY=secrets.token_hex(32),
        MEET_LIVEKIT_URL=livekit_url,
        MEET_LIVEKIT_API_KEY=API_KEY,
        MEET_LIVEKIT_API_SECRET=API_SECRET,
        # The load comes from one address and re-uses credentials: lift the per-address and per-credential limits.
        MEET_LOBBY_KNOCKS_PER_MINUTE="100000000",
        MEET_LOBBY_NEW_PARTICIPANTS_PER_MINUTE_PER_ADDRESS="100000000",
        MEET_LOBBY_WAITING_TIMEOUT_SECONDS="3600",
        MEET_LOBBY_NOTIFY_TIMEOUT_SECONDS="0.2",
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "meet.entrypoints.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True)


def lobby_credentials(base: str, room: Room, count: int, path: Path) -> None:
    with httpx.Client(base_url=base, timeout=10) as client:
        lines = []
        for i in range(count):
            response = client.post(f"/api/v1/rooms/{room.id}/request-entry", json={"username": f"Poller {i}"})
            response.raise_for_status()
            lines.append(response.json()["credential"])
    path.write_text("\n".join(lines) + "\n")


def webhook_deliveries(rooms: list[str], count: int, path: Path) -> None:
    with path.open("w") as out:
        for i in range(count):
            body = json.dumps(
                {
                    "id": f"EV_{uuid.uuid4().hex}",
                    "event": "participant_joined",
                    "room": {"name": rooms[i % len(rooms)]},
                    "participant": {"identity": f"guest-{i}", "name": "Guest"},
                    "createdAt": str(int(time.time())),
                },
                separators=(",", ":"),
            )
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            token = AccessToken(API_KEY, API_SECRET).with_sha256(digest).to_jwt()
            out.write(f"{token}\t{body}\n")


def choose_workers(env: dict[str, str], candidates: tuple[int, ...]) -> tuple[int, list[dict[str, Any]]]:
    """The worker count that serves the token-only endpoint fastest on this machine, by measurement."""
    sweep = []
    for workers in candidates:
        with api_server(env, workers) as base:
            result = measure(base, f"token-only, {workers} worker(s)", Load("/bench/token"), seconds=3)
        sweep.append({"workers": workers, "rps": result.rps, "p99_ms": result.p99_ms})
    best = max(sweep, key=lambda row: row["rps"])
    return int(best["workers"]), sweep


def run_scenarios(base: str, seeded: Seeded, workdir: Path, seconds: float) -> list[Result]:
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    member = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}
    rooms = seeded.rooms
    json_body = {"Content-Type": "application/json"}
    results = [
        measure(base, "reference: constant", Load("/bench/constant"), seconds=seconds),
        measure(base, "reference: token only", Load("/bench/token"), seconds=seconds),
    ]
    public = Load(f"/api/v1/rooms/{rooms['public'].slug}")
    results.append(measure(base, "1. anonymous join, public room", public, seconds=seconds))
    results.append(measure(base, "1. anonymous join, public room", public, connections=128, seconds=seconds))
    restricted = Load(f"/api/v1/rooms/{rooms['restricted'].id}", headers=member)
    results.append(measure(base, "2. member join, restricted room", restricted, seconds=seconds))
    knock = Load(
        f"/api/v1/rooms/{rooms['knock'].id}/request-entry",
        method="POST",
        body='{"username":"Bench"}',
        headers=json_body,
    )
    results.append(measure(base, "3. lobby knock (new participant)", knock, seconds=seconds))
    credentials = workdir / "credentials.txt"
    lobby_credentials(base, rooms["poll"], 500, credentials)
    poll = Load(
        f"/api/v1/rooms/{rooms['poll'].id}/request-entry",
        method="POST",
        headers=json_body,
        rotate_file=credentials,
        rotate_header="X-Lobby-Credential",
    )
    results.append(measure(base, "3. lobby poll (existing credential)", poll, seconds=seconds))
    for size in WAITING_SIZES:
        listing = Load(f"/api/v1/rooms/{rooms[f'wait-{size}'].id}/waiting-participants", headers=owner)
        results.append(measure(base, f"4. waiting list, {size:,} waiting", listing, seconds=seconds))
    deliveries = workdir / "webhooks.txt"
    webhook_deliveries([room.sfu_room_name for room in rooms.values()], 40_000, deliveries)
    webhook = Load(
        "/api/v1/webhooks/livekit",
        method="POST",
        headers={"Content-Type": "application/webhook+json"},
        rotate_file=deliveries,
        rotate_header="webhook",
    )
    results.append(measure(base, "5. webhook ingestion (participant_joined)", webhook, seconds=seconds))
    return results


def growth(base: str, seeded: Seeded, postgres_dsn: str, redis_url: str, seconds: float) -> list[Result]:
    rooms, owner = seeded.rooms, {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    public = Load(f"/api/v1/rooms/{rooms['public'].slug}")
    listing = Load(f"/api/v1/rooms/{rooms['wait-10'].id}/waiting-participants", headers=owner)
    print("  adding 100,000 rooms to PostgreSQL ...", flush=True)
    asyncio.run(add_rooms(postgres_dsn, 100_000))
    results = [measure(base, "6. join with 100,000 rooms in the database", public, seconds=seconds)]
    print("  adding 100,000 unrelated keys to Redis ...", flush=True)
    asyncio.run(add_unrelated_keys(redis_url, 100_000))
    results.append(measure(base, "6. join with 100,000 unrelated Redis keys", public, seconds=seconds))
    results.append(measure(base, "6. waiting list (10) with 100,000 Redis keys", listing, seconds=seconds))
    return results


def profile(base: str, load: Load, worker_pids: list[int], seconds: int, out: Path) -> list[tuple[str, float]]:
    """py-spy one worker under load; the functions where it spends its own time, as shares of samples."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists() or not worker_pids:
        return []
    raw = out.with_suffix(".txt")
    recorder = subprocess.Popen(
        [py_spy, "record", "-p", str(worker_pids[0]), "-d", str(seconds), "-f", "raw", "-o", str(raw), "--nonblocking"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wrk(base, load, connections=32, seconds=seconds + 1)
    recorder.wait(timeout=seconds + 30)
    if not raw.exists():
        return []
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        leaf = stack.split(";")[-1]
        module = re.sub(r"\s*\((.*?)(:\d+)?\)$", r" (\1)", leaf)
        module = re.sub(r"\(.*?site-packages/", "(", module)
        own[module] = own.get(module, 0) + int(count)
        total += int(count)
    top = sorted(own.items(), key=lambda item: item[1], reverse=True)[:12]
    return [(name, round(100 * samples / max(total, 1), 1)) for name, samples in top]


def worker_pids(server_pid: int) -> list[int]:
    output = subprocess.run(["pgrep", "-P", str(server_pid)], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in output.split()]


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
        "load_average_at_start": os.getloadavg()[0],
        "wrk": wrk_version.strip(),
    }


def with_ratios(results: list[Result]) -> None:
    constant = next(r for r in results if r.name == "reference: constant").rps
    token = next(r for r in results if r.name == "reference: token only").rps
    for result in results:
        result.ratio_constant = round(result.rps / constant, 3) if constant else 0.0
        result.ratio_token = round(result.rps / token, 3) if token else 0.0


def targets(results: list[Result]) -> list[dict[str, Any]]:
    def find(name: str, connections: int = 32) -> Result:
        return next(r for r in results if r.name == name and r.connections == connections)

    join = find("1. anonymous join, public room")
    knock, poll = find("3. lobby knock (new participant)"), find("3. lobby poll (existing credential)")
    small, large = find("4. waiting list, 10 waiting"), find("4. waiting list, 10,000 waiting")
    base_join = join.p50_ms
    grown = [r for r in results if r.name.startswith("6. join")]
    checks = [
        ("Join at 32 connections >= 40% of token-only req/s", join.ratio_token >= 0.40, f"{join.ratio_token:.0%}"),
        ("Join p99 < 25 ms", join.p99_ms < 25, f"{join.p99_ms:.1f} ms"),
        ("Knock >= 25% of token-only req/s", knock.ratio_token >= 0.25, f"{knock.ratio_token:.0%}"),
        ("Knock p99 < 30 ms", knock.p99_ms < 30, f"{knock.p99_ms:.1f} ms"),
        ("Poll >= 25% of token-only req/s", poll.ratio_token >= 0.25, f"{poll.ratio_token:.0%}"),
        ("Poll p99 < 30 ms", poll.p99_ms < 30, f"{poll.p99_ms:.1f} ms"),
        (
            "Waiting list p50 with 10,000 <= 3x with 10",
            large.p50_ms <= 3 * small.p50_ms,
            f"{large.p50_ms / small.p50_ms:.2f}x",
        ),
        (
            "Join p50 does not grow with 100,000 rooms / Redis keys (<= 1.5x)",
            all(r.p50_ms <= 1.5 * base_join for r in grown),
            ", ".join(f"{r.p50_ms / base_join:.2f}x" for r in grown),
        ),
    ]
    return [{"target": name, "met": met, "measured": measured} for name, met, measured in checks]


def markdown(report: dict[str, Any]) -> str:
    info = report["machine"]
    lines = [
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores), Python {info['python']}, "
        f"{info['wrk']}; load generator on the same machine. Server: uvicorn, {report['workers']} worker(s), "
        "production profile, PostgreSQL + Redis.",
        "",
        "| scenario | conn. | req/s | p50 ms | p99 ms | errors | x constant | x token-only |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['name']} | {r['connections']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
        f"{r['errors']} | {r['ratio_constant']:.2f} | {r['ratio_token']:.2f} |"
        for r in report["results"]
    ]
    lines += ["", "| target | met | measured |", "|---|---|---|"]
    lines += [f"| {t['target']} | {'yes' if t['met'] else 'NO'} | {t['measured']} |" for t in report["targets"]]
    sweep = ", ".join(f"{row['workers']} -> {row['rps']:,.0f} req/s" for row in report["worker_sweep"])
    lines += ["", f"Worker sweep (token-only endpoint, 32 connections): {sweep}."]
    for title, key in (("Profile of one worker, anonymous join", "profile_join"), ("Profile, knock", "profile_knock")):
        if report.get(key):
            lines += ["", f"{title} (own time, share of samples):", ""]
            lines += [f"- {share}% {name}" for name, share in report[key]]
    return "\n".join(lines) + "\n"


def update_readme(table: str) -> None:
    text = README.read_text()
    if README_START not in text:
        return
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    README.write_text(f"{head}{README_START}\n{table}{README_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each measurement")
    parser.add_argument("--workers", type=int, default=0, help="skip the sweep and use this many workers")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install wrk", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="meet-bench-"))
    info = machine()
    print(f"meet benchmark on {info['cpu']} ({info['cores']} cores)", flush=True)
    try:
        # LiveKit itself cannot run here: its wire-level double answers the server calls a knock makes.
        with (
            start_postgres() as postgres,
            start_redis() as redis,
            run_livekit_server(api_key=API_KEY, api_secret=API_SECRET) as livekit,
        ):
            dsn = postgres.url().replace("postgresql+asyncpg://", "postgresql://")
            env = production_env(postgres.url(), redis.url, livekit.url)
            migrate(env)
            seeded = asyncio.run(seed_database(postgres.url()))
            asyncio.run(create_sessions(redis.url, seeded))
            asyncio.run(fill_waiting_lists(redis.url, seeded))
            if args.workers:
                workers, sweep = args.workers, []
            else:
                print("choosing the worker count:", flush=True)
                workers, sweep = choose_workers(env, (1, 2, 3))
            print(f"scenarios with {workers} worker(s):", flush=True)
            with api_server(env, workers) as base:
                server_pid = int(
                    subprocess.run(
                        ["pgrep", "-f", f"uvicorn bench.app:create.*--port {base.rsplit(':', 1)[1]}"],
                        capture_output=True,
                        text=True,
                        check=False,
                    ).stdout.split()[0]
                )
                results = run_scenarios(base, seeded, workdir, args.seconds)
                pids = worker_pids(server_pid) or [server_pid]
                profile_join = profile(
                    base, Load(f"/api/v1/rooms/{seeded.rooms['public'].slug}"), pids, 5, workdir / "join"
                )
                knock = Load(
                    f"/api/v1/rooms/{seeded.rooms['knock'].id}/request-entry",
                    method="POST",
                    body='{"username":"Bench"}',
                    headers={"Content-Type": "application/json"},
                )
                profile_knock = profile(base, knock, pids, 5, workdir / "knock")
                results += growth(base, seeded, dsn, redis.url, args.seconds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    with_ratios(results)
    report = {
        "machine": info,
        "server": "uvicorn",
        "workers": workers,
        "worker_sweep": sweep,
        "results": [asdict(r) for r in results],
        "targets": targets(results),
        "profile_join": profile_join,
        "profile_knock": profile_knock,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    table = markdown(report)
    (RESULTS / "latest.md").write_text("# Latest benchmark\n\n" + table)
    update_readme(table)
    print("\n" + table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
