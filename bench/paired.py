"""Paired before/after measurements of the join scenarios, for a machine shared with other work.

Two API servers run side by side on the same PostgreSQL, Redis and data: one from this checkout ("after")
and one from another checkout of the code ("before", e.g. a ``git worktree`` of main), each with its own
source tree first on ``PYTHONPATH``. Rounds alternate between them (before, after, after, before, ...),
and each scenario is measured back to back on both within a round, so that what else the machine does
weighs on both alike. CPU per request is read from ``/proc`` for the server's processes and PostgreSQL's
(and Redis's, reported apart), over the measured window only.

    uv run python -m bench.paired --before /tmp/meet-main --rounds 4
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
from bench.run import migrate, production_env
from bench.seed import Seeded, create_sessions, fill_waiting_lists, seed_database
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


def loads(seeded: Seeded) -> dict[str, Load]:
    rooms = seeded.rooms
    owner = {"Cookie": f"meet_session={seeded.sessions['bench-owner']}"}
    member = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}
    return {
        "token only": Load("/bench/token"),
        "anonymous join": Load(f"/api/v1/rooms/{rooms['public'].slug}"),
        "member join": Load(f"/api/v1/rooms/{rooms['restricted'].id}", headers=member),
        "waiting list (10 waiting)": Load(f"/api/v1/rooms/{rooms['wait-10'].id}/waiting-participants", headers=owner),
    }


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the other checkout (its src/ and bench/)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "paired.json")
    parser.add_argument("--profile", action="store_true", help="then profile one worker of each (py-spy, 5 s)")
    args = parser.parse_args(argv)
    trees = {"before": args.before.resolve(), "after": ROOT}
    rows: list[dict[str, Any]] = []
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
        scenarios = loads(seeded)
        for number in range(args.rounds):
            order = ["before", "after"] if number % 2 == 0 else ["after", "before"]
            for scenario, load in scenarios.items():
                for connections in (32, 8):
                    for label in order:
                        base, pid = servers[label]
                        roots = {"server": pid, "postgresql": postmaster, "redis": redis_pid}
                        result = measure(base, load, connections, args.seconds, roots)
                        row = {"round": number, "code": label, "scenario": scenario, "connections": connections}
                        rows.append({**row, **result})
                        cpu = result["cpu_ms_per_request"]
                        print(
                            f"round {number} {label:<6} {scenario:<26} c={connections:<3} {result['rps']:>7.0f} req/s "
                            f"p99 {result['p99_ms']:6.2f} ms  cpu/req server {cpu['server']:.3f} "
                            f"pg {cpu['postgresql']:.3f} redis {cpu['redis']:.3f} ms  non-2xx {result['non_2xx']}",
                            flush=True,
                        )
        profiles = {}
        if args.profile:
            for scenario in ("anonymous join", "member join", "waiting list (10 waiting)"):
                for label in ("before", "after"):
                    base, pid = servers[label]
                    raw = args.out.with_name(f"profile-{label}-{scenario.split()[0]}.txt")
                    profiles[f"{label}: {scenario}"] = profile(base, scenarios[scenario], worker_pids(pid)[0], 5, raw)
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
    for code in ("before", "after"):
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
