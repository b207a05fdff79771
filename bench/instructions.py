"""Instructions per request, before and after: the comparison that holds on a busy machine.

``bench.paired`` measures time, which other work on the machine disturbs (on a shared two-core machine its
CPU per request still moves by 10-20% between rounds). valgrind's callgrind counts instructions instead:
the same code, data and requests give the same count whatever else runs. Each checkout's app is served in
one process under callgrind (Litestar's ASGI test client: no HTTP server, so the count is the app's own
work, the same client code for every checkout), against one Redis, also under callgrind, and a
PostgreSQL run natively (its work shows as statements: a warm join makes none).

    uv run python -m bench.instructions --tree before=/tmp/meet-main --requests 50 --chunks 6

Reported per scenario and checkout: the app's and Redis's instructions per request (the median chunk, so
a chunk that met the app's clock-driven full garbage collection is left out), and the ratio to this
checkout (``after``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis
from tests.support.services import free_port, wait_for_port

from bench.paired import loads
from bench.run import migrate, production_env
from bench.seed import Seeded, create_sessions, fill_waiting_lists, lobby_credentials, seed_database
from bench.services import ROOT, _stop_group, api_server, livekit_stub, start_local_postgres

DRIVER = Path(__file__).with_name("instructions_driver.py")


@contextlib.contextmanager
def grinding_redis(workdir: Path, seed: Any) -> Iterator[tuple[str, int]]:
    """A Redis filled by ``seed(url)`` while native, then saved and served again under callgrind."""
    port = free_port()
    base = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--appendonly", "no"]
    native = subprocess.Popen([*base, "--save", ""], stdout=subprocess.DEVNULL, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for_port(port, process=native)
        seed(url)
        redis.Redis.from_url(url).save()
    finally:
        _stop_group(native)
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={workdir}/redis.%p", "--instr-atstart=no"]
    # Redis's own timer (serverCron, 10 times a second) would count by the clock, not by the requests: once
    # a second here (expiry is also checked on each access, as always).
    grinding = subprocess.Popen(
        [*command, *base, "--save", "", "--hz", "1", "--dynamic-hz", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, process=grinding, timeout=120)
        yield url, grinding.pid
    finally:
        _stop_group(grinding)


def quiet_background(root: Path) -> dict[str, str]:
    """Settings that keep a checkout's clock-driven background work (the audit records' mover, webhook
    delivery) out of the counted chunks, for the checkouts that have it: under valgrind a second holds few
    requests, so work done once a second would weigh fifty times what it does in production. What it costs
    per record is not in these counts."""
    known = (root / "src" / "meet" / "entrypoints" / "settings.py").read_text()
    quiet = {"lobby_records_poll_seconds": "3600", "webhook_poll_seconds": "60"}
    return {f"MEET_{name.upper()}": value for name, value in quiet.items() if f"{name}:" in known}


def plan(seeded: Seeded, credentials: Path) -> list[dict[str, Any]]:
    """``bench.paired``'s scenarios, as the driver sends them (a rotated header's values read in)."""
    found = []
    for name, load in loads(seeded, credentials).items():
        scenario: dict[str, Any] = {"name": name, "method": load.method, "path": load.path, "headers": load.headers}
        if load.body is not None:
            scenario["body"] = load.body
        if load.rotate_file is not None:
            scenario["rotate"] = load.rotate_file.read_text().split()
            scenario["rotate_header"] = load.rotate_header
        found.append(scenario)
    return found


def parts(workdir: Path, prefix: str) -> dict[int, tuple[str, int]]:
    """Every callgrind dump of ``prefix`` by its part number: its trigger (a dump asked by
    ``callgrind_control`` has none) and its instruction total."""
    found = {}
    for path in workdir.glob(f"{prefix}.*.*"):
        text = path.read_text(errors="replace")
        trigger = re.search(r"^desc: Trigger: Client Request: (.*)$", text, re.MULTILINE)
        total = re.search(r"^summary: (\d+)", text, re.MULTILINE)
        name = trigger.group(1).strip() if trigger else ""
        found[int(path.name.rsplit(".", 1)[1])] = (name, int(total.group(1)) if total else 0)
    return found


def app_counts(out: Path) -> dict[str, list[int]]:
    """Each scenario's chunks' totals, in order."""
    found: dict[str, list[int]] = {}
    for _, (name, total) in sorted(parts(out, "app").items()):
        if name.startswith("end "):
            found.setdefault(name.removeprefix("end "), []).append(total)
    return found


def redis_counts(printed: str) -> dict[str, list[int]]:
    """Redis's instructions of each chunk, as the driver printed them, in order."""
    found: dict[str, list[int]] = {}
    for line in printed.splitlines():
        if line.startswith("{"):
            chunk = json.loads(line)
            found.setdefault(chunk["scenario"], []).append(int(chunk["redis"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="LABEL=PATH: a checkout to count")
    parser.add_argument("--requests", type=int, default=50, help="requests per chunk")
    parser.add_argument("--chunks", type=int, default=6, help="chunks per scenario (the median chunk counts)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "instructions.json")
    args = parser.parse_args(argv)
    trees = {label: Path(path).resolve() for label, path in (tree.split("=", 1) for tree in args.tree)}
    trees["after"] = ROOT
    report: dict[str, Any] = {"requests": args.requests, "trees": {k: str(v) for k, v in trees.items()}}
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="meet-grind-")))
        postgres = stack.enter_context(start_local_postgres())
        livekit = stack.enter_context(livekit_stub(workdir))
        seeded = Seeded()

        def seed(url: str) -> None:
            migrate(production_env(postgres.url(), url, livekit))
            seeded.__dict__.update(asyncio.run(seed_database(postgres.url())).__dict__)
            asyncio.run(create_sessions(url, seeded))
            asyncio.run(fill_waiting_lists(url, seeded))

        redis_url, redis_pid = stack.enter_context(grinding_redis(workdir, seed))
        env = production_env(postgres.url(), redis_url, livekit)
        with api_server(env, 1, workdir) as api:  # the pollers' credentials, knocked in over HTTP
            credentials = workdir / "credentials.txt"
            credentials.write_text("\n".join(asyncio.run(lobby_credentials(api.base, seeded.rooms["poll"], 200))))
        scenarios = plan(seeded, credentials)
        counts: dict[str, dict[str, dict[str, float]]] = {}
        chunks: dict[str, Any] = {}
        for label, root in trees.items():
            out = workdir / label
            out.mkdir()
            (out / "plan.json").write_text(
                json.dumps(
                    {
                        "src": str(root / "src"),
                        "root": str(root),
                        "redis_pid": redis_pid,
                        "scenarios": scenarios,
                    }
                )
            )
            command = [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}/app.%p", "--dump-instr=no",
                "--instr-atstart=no",
                sys.executable, str(DRIVER), "--plan", str(out / "plan.json"), "--requests", str(args.requests),
                "--chunks", str(args.chunks), "--workdir", str(workdir),
            ]  # fmt: skip
            child_env = {**env, **quiet_background(root), "PYTHONHASHSEED": "0", "PYTHONPATH": f"{root / 'src'}:{root}"}
            done = subprocess.run(command, env=child_env, cwd=root, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise SystemExit(f"{label}: the driver failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
            app, store = app_counts(out), redis_counts(done.stdout)
            chunks[label] = {"app": app, "redis": store}
            counts[label] = {
                scenario: {
                    "app": statistics.median(app.get(scenario) or [0]) / args.requests,
                    "redis": statistics.median(store.get(scenario) or [0]) / args.requests,
                }
                for scenario in app
            }
            print(label, json.dumps(counts[label]), flush=True)
    report["per_request"] = counts
    report["chunks"] = chunks
    report["ratio_to_after"] = {
        label: {
            scenario: round(
                (values["app"] + values["redis"])
                / max(counts["after"][scenario]["app"] + counts["after"][scenario]["redis"], 1),
                3,
            )
            for scenario, values in per.items()
        }
        for label, per in counts.items()
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["ratio_to_after"], indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
