"""Paired before/after measurements of the join scenarios, for a machine shared with other work.

Two API servers run side by side on the same PostgreSQL, Redis and data: one from this checkout ("after")
and one from another checkout of the code ("before", e.g. a ``git worktree`` of main), each with its own
source tree first on ``PYTHONPATH``. Rounds alternate between them (before, after, after, before, ...),
and each scenario is measured back to back on both within a round, so that what else the machine does
weighs on both alike. CPU per request is read from ``/proc`` for the server's processes and PostgreSQL's
(and Redis's, reported apart), over the measured window only.

    uv run python -m bench.paired --before /tmp/meet-main --rounds 4

More than two trees: ``--tree LABEL=PATH`` (repeated) adds checkouts, measured in a rotating order each
round; ``--scenarios`` picks the scenarios by name (the joins and the waiting list by default; ``lobby
knock`` and ``lobby poll`` for the lobby's hot paths, each server knocking its own pollers in first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from tests.support.services import free_port

from bench.profile import profile
from bench.run import knock_load, migrate, poll_load, production_env
from bench.seed import Seeded, create_sessions, fill_waiting_lists, lobby_credentials, seed_database
from bench.services import (
    ROOT,
    _children,
    _stop_group,
    livekit_stub,
    start_local_postgres,
    start_local_redis,
    worker_pids,
)
from bench.wrk import Load, run


def cpu_ns(pids: list[int]) -> dict[int, int]:
    """CPU time of each of ``pids`` (every thread), in nanoseconds from ``schedstat``: ``stat``'s clock ticks
    (10 ms) miss PostgreSQL backends that each run for a few milliseconds in a measurement."""
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError):
            found[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return found


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += _children(current)
    return found


@contextlib.contextmanager
def server(root: Path, env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """The bench app of ``root``'s source tree under uvicorn, as ``bench.services.api_server`` runs it."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench.app:create", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--proxy-headers",
        "--forwarded-allow-ips", "127.0.0.1",
    ]  # fmt: skip
    child_env = {**env, "PYTHONPATH": f"{root / 'src'}:{root}"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=root, env=child_env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, ready = time.monotonic() + 90, 0
        while ready < 4 * workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start; its log:\n{log.read_text()[-3000:]}")
            try:
                ready = ready + 1 if httpx.get(f"{base}/bench/constant", timeout=2).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
                time.sleep(0.2)
        time.sleep(1.0)
        yield base, process.pid
    finally:
        _stop_group(process)


DEFAULT_SCENARIOS = ("token only", "anonymous join", "member join", "waiting list (10 waiting)")


def loads(seeded: Seeded, credentials: Path | None = None) -> dict[str, Load]:
    """Every scenario by name; ``credentials``: the file of lobby credentials the poll rotates through (one
    server's own, knocked in through it)."""
    rooms = seeded.rooms
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    member = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}
    found = {
        "token only": Load("/bench/token"),
        "anonymous join": Load(f"/api/v1/rooms/{rooms['public'].slug}"),
        "member join": Load(f"/api/v1/rooms/{rooms['restricted'].id}", headers=member),
        "waiting list (10 waiting)": Load(f"/api/v1/rooms/{rooms['wait-10'].id}/waiting-participants", headers=owner),
        "lobby knock": knock_load(seeded),
    }
    if credentials is not None:
        found["lobby poll"] = poll_load(seeded, credentials)
    return found


def measure(base: str, load: Load, connections: int, seconds: int, roots: dict[str, int]) -> dict[str, Any]:
    """``roots``: the processes whose trees' CPU is counted (a tree read again at the end, so that a
    PostgreSQL backend forked meanwhile counts too)."""
    run(base, load, connections=connections, seconds=1)  # warm-up: connections, copies, pools
    before = {name: cpu_ns(tree(pid)) for name, pid in roots.items()}
    data = run(base, load, connections=connections, seconds=seconds)
    used = {}
    for name, pid in roots.items():
        after = cpu_ns(tree(pid))
        used[name] = sum(ns - before[name].get(child, 0) for child, ns in after.items()) / 1e9
    requests = max(int(data["requests"]), 1)
    return {
        "rps": float(data["rps"]),
        "p50_ms": float(data["p50_ms"]),
        "p99_ms": float(data["p99_ms"]),
        "non_2xx": int(data["non_2xx"]),
        "errors": sum(int(data[key]) for key in ("errors_connect", "errors_read", "errors_write", "errors_timeout")),
        "cpu_ms_per_request": {name: 1000 * value / requests for name, value in used.items()},
    }


def rounds(
    servers: dict[str, tuple[str, int]],
    per_tree: dict[str, dict[str, Load]],
    wanted: list[str],
    shared: dict[str, int],
    count: int,
    seconds: int,
) -> list[dict[str, Any]]:
    """Measure every wanted scenario on every server, ``count`` rounds; ``shared``: the processes all servers
    use (PostgreSQL, Redis), counted beside each server's own."""
    rows: list[dict[str, Any]] = []
    labels = list(servers)
    for number in range(count):
        # Each round turns the order (and every other round reverses it), so no tree always goes first.
        turned = labels[number % len(labels) :] + labels[: number % len(labels)]
        order = turned if number % 2 == 0 else list(reversed(turned))
        for scenario in wanted:
            for connections in (32, 8):
                for label in order:
                    base, pid = servers[label]
                    result = measure(base, per_tree[label][scenario], connections, seconds, {"server": pid, **shared})
                    row = {"round": number, "code": label, "scenario": scenario, "connections": connections}
                    rows.append({**row, **result})
                    cpu = result["cpu_ms_per_request"]
                    print(
                        f"round {number} {label:<8} {scenario:<26} c={connections:<3} {result['rps']:>7.0f} req/s "
                        f"p99 {result['p99_ms']:6.2f} ms  cpu/req server {cpu['server']:.3f} "
                        f"pg {cpu['postgresql']:.3f} redis {cpu['redis']:.3f} ms  non-2xx {result['non_2xx']}",
                        flush=True,
                    )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="the other checkout (its src/ and bench/)")
    parser.add_argument("--tree", action="append", default=[], help="LABEL=PATH: one more checkout to measure")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "paired.json")
    parser.add_argument("--profile", action="store_true", help="then profile one worker of each (py-spy, 5 s)")
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve()} if args.before else {}
    trees.update({label: Path(path).resolve() for label, path in (tree.split("=", 1) for tree in args.tree)})
    trees["after"] = ROOT
    wanted = [name.strip() for name in args.scenarios.split(",")]
    if "token only" not in wanted:
        wanted.insert(0, "token only")
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="meet-paired-")))
        postgres = stack.enter_context(start_local_postgres())
        redis = stack.enter_context(start_local_redis())
        livekit = stack.enter_context(livekit_stub(workdir))
        env = production_env(postgres.url(), redis.url, livekit)
        migrate(env)
        seeded = asyncio.run(seed_database(postgres.url()))
        asyncio.run(create_sessions(redis.url, seeded))
        asyncio.run(fill_waiting_lists(redis.url, seeded))
        servers = {
            label: stack.enter_context(server(root, env, args.workers, workdir / f"api-{label}.log"))
            for label, root in trees.items()
        }
        postmaster = int((postgres._data / "postmaster.pid").read_text().split()[0])  # type: ignore[operator]
        redis_pid = redis._process.pid  # type: ignore[union-attr]
        per_tree = {}
        for label, (base, _) in servers.items():
            credentials = workdir / f"credentials-{label}.txt"
            if "lobby poll" in wanted:
                polled = asyncio.run(lobby_credentials(base, seeded.rooms["poll"], 1_000))
                credentials.write_text("\n".join(polled) + "\n")
            per_tree[label] = loads(seeded, credentials)
        labels = list(servers)
        roots = {"postgresql": postmaster, "redis": redis_pid}
        rows = rounds(servers, per_tree, wanted, roots, args.rounds, args.seconds)
        profiles = {}
        if args.profile:
            for scenario in ("anonymous join", "member join", "waiting list (10 waiting)"):
                for label in labels:
                    base, pid = servers[label]
                    raw = args.out.with_name(f"profile-{label}-{scenario.split()[0]}.txt")
                    load = per_tree[label][scenario]
                    profiles[f"{label}: {scenario}"] = profile(base, load, worker_pids(pid)[0], 5, raw)
                    print(f"profile {label} {scenario}: {json.dumps(profiles[f'{label}: {scenario}'])}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {"rows": rows, "summary": summary(rows), "profiles": profiles}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(summary(rows), indent=2))
    return 0


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per code and scenario: median req/s and CPU per request at 32 connections, median p99 at 8, and the
    ratios to the token-only endpoint of the same code, taken round by round (then the median)."""
    out: dict[str, Any] = {}
    for code in dict.fromkeys(row["code"] for row in rows):
        mine = [row for row in rows if row["code"] == code]
        token = {row["round"]: row for row in mine if row["scenario"] == "token only" and row["connections"] == 32}
        for scenario in dict.fromkeys(row["scenario"] for row in mine):
            at32 = [row for row in mine if row["scenario"] == scenario and row["connections"] == 32]
            at8 = [row for row in mine if row["scenario"] == scenario and row["connections"] == 8]

            def cpu(row: dict[str, Any]) -> float:
                return float(row["cpu_ms_per_request"]["server"] + row["cpu_ms_per_request"]["postgresql"])

            out[f"{code}: {scenario}"] = {
                "rps": statistics.median(row["rps"] for row in at32),
                "cpu_ms_per_request_server_postgresql": round(statistics.median(cpu(row) for row in at32), 4),
                "cpu_ms_per_request_redis": round(
                    statistics.median(row["cpu_ms_per_request"]["redis"] for row in at32), 4
                ),
                "rps_ratio_to_token": round(
                    statistics.median(row["rps"] / token[row["round"]]["rps"] for row in at32), 3
                ),
                "cpu_ratio_to_token": round(statistics.median(cpu(token[row["round"]]) / cpu(row) for row in at32), 3),
                "p99_ms_at_8": statistics.median(row["p99_ms"] for row in at8),
                "rps_at_8": statistics.median(row["rps"] for row in at8),
                "rounds": len(at32),
            }
    return out


if __name__ == "__main__":
    raise SystemExit(main())
