"""Run by ``bench.instructions`` under valgrind's callgrind, with another checkout's ``src/`` first on the path.

It serves the bench app in this process (Litestar's ASGI test client, lifespan and all), warms each
scenario, then sends ``--chunks`` chunks of ``--requests`` requests, each between two callgrind dumps named after
the scenario, so that a dump holds exactly its chunk's instructions. Redis, also under callgrind, is counted
over the same chunk (``callgrind_control`` zeroes and reads its counters, outside the app's window). Only the
standard library, httpx and Litestar are used here, so that the driver runs against any checkout's app.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

# A client request is a magic instruction sequence only C can emit: a two-line shared object does it.
DUMP_SOURCE = """
#include <valgrind/callgrind.h>
void dump(const char *name) { CALLGRIND_DUMP_STATS_AT(name); }
void zero(void) { CALLGRIND_ZERO_STATS; }
void start(void) { CALLGRIND_START_INSTRUMENTATION; }
"""


def callgrind(workdir: Path) -> ctypes.CDLL:
    source, library = workdir / "dump.c", workdir / "dump.so"
    if not library.exists():
        source.write_text(DUMP_SOURCE)
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(source)], check=True)
    return ctypes.CDLL(str(library))


def instrument_redis(redis_pid: int) -> None:
    subprocess.run(["callgrind_control", "--instr=on", str(redis_pid)], check=True, capture_output=True)


def zero_redis(redis_pid: int) -> None:
    subprocess.run(["callgrind_control", "--zero", str(redis_pid)], check=True, capture_output=True)


def redis_instructions(redis_pid: int) -> int:
    """Redis's instructions since its last zeroing, every thread (callgrind_control's event counters: a
    dump asked from outside has no name, and is written later, so counters are read instead)."""
    shown = subprocess.run(["callgrind_control", "-e", "Ir", str(redis_pid)], check=True, capture_output=True)
    return sum(int(n.replace(b",", b"")) for n in re.findall(rb"^\s+Th \d+\s+([\d,]+)", shown.stdout, re.M))


async def drive(plan: dict[str, Any], requests: int, chunks: int, workdir: Path) -> None:
    sys.path[:0] = [plan["src"], plan["root"]]
    from bench.app import create  # the checkout's own app  # noqa: PLC0415

    grind = callgrind(workdir)
    async with AsyncTestClient(app=create(), base_url="http://127.0.0.1") as client:
        # Both ran uninstrumented until now (valgrind's start-up, the imports, the seeding): much faster.
        grind.start()
        instrument_redis(plan["redis_pid"])
        for scenario in plan["scenarios"]:
            rotation = scenario.get("rotate", [None])

            async def send(i: int, scenario: dict[str, Any] = scenario, rotation: list[str | None] = rotation) -> None:
                client.cookies.clear()  # every knock a new participant; a session only by its header
                headers = dict(scenario["headers"])
                if rotation[i % len(rotation)] is not None:
                    headers[scenario["rotate_header"]] = rotation[i % len(rotation)]
                response = await client.request(
                    scenario["method"], scenario["path"], headers=headers, content=scenario.get("body")
                )
                if response.status_code >= 300:
                    raise SystemExit(f"{scenario['name']}: {response.status_code} {response.text[:300]}")

            for i in range(50):  # warm-up: copies, pools, caches
                await send(i)
            # In chunks, each between its own dumps: the median chunk leaves out a chunk that met a full
            # garbage collection (the app runs one in quiet moments, which come by the clock).
            for chunk in range(chunks):
                zero_redis(plan["redis_pid"])
                grind.zero()
                for i in range(requests):
                    await send(chunk * requests + i)
                grind.dump(f"end {scenario['name']}".encode())
                redis = redis_instructions(plan["redis_pid"])
                print(json.dumps({"scenario": scenario["name"], "chunk": chunk, "redis": redis}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50, help="requests per chunk")
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(drive(json.loads(args.plan.read_text()), args.requests, args.chunks, args.workdir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
