"""wrk runs (127.0.0.1 only, bounded in time) and their results."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LUA = Path(__file__).resolve().parent / "lua" / "scenario.lua"
THREADS = 2


@dataclass
class Load:
    path: str
    method: str = "GET"
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rotate_file: Path | None = None
    rotate_header: str | None = None


@dataclass
class Result:
    name: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors: connect, read, write, timeout
    non_2xx: int  # responses with a status >= 400
    requests: int
    seconds: float
    ratio_constant: float = 0.0
    ratio_token: float = 0.0

    def line(self) -> str:
        return (
            f"  {self.name:<50} c={self.connections:<4} {self.rps:>8.0f} req/s  p50 {self.p50_ms:7.2f} ms  "
            f"p99 {self.p99_ms:7.2f} ms  errors {self.errors}  non-2xx {self.non_2xx}"
        )


def run(base: str, load: Load, *, connections: int, seconds: int) -> dict[str, Any]:
    if urlsplit(base).hostname != "127.0.0.1":
        raise ValueError("the benchmark only loads 127.0.0.1")
    env = {**os.environ, "WRK_METHOD": load.method, "WRK_THREADS": str(THREADS)}
    if load.body is not None:
        env["WRK_BODY"] = load.body
    env["WRK_HEADERS"] = "\n".join(f"{name}: {value}" for name, value in load.headers.items())
    if load.rotate_file:
        env["WRK_ROTATE_FILE"] = str(load.rotate_file)
        env["WRK_ROTATE_HEADER"] = load.rotate_header or ""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(LUA),
        base + load.path,
    ]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)
    match = re.search(r"^WRK_JSON (.*)$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def measure(
    base: str,
    name: str,
    load: Load,
    *,
    connections: int = 32,
    seconds: int = 5,
    warmup: int = 1,
    warmup_load: Load | None = None,
) -> Result:
    """A short warm-up (connections opened, caches and pools filled), then the measured run."""
    if warmup:
        run(base, warmup_load or load, connections=connections, seconds=warmup)
    data = run(base, load, connections=connections, seconds=seconds)
    result = Result(
        name=name,
        connections=connections,
        rps=float(data["rps"]),
        p50_ms=float(data["p50_ms"]),
        p99_ms=float(data["p99_ms"]),
        errors=sum(int(data[key]) for key in ("errors_connect", "errors_read", "errors_write", "errors_timeout")),
        non_2xx=int(data["non_2xx"]),
        requests=int(data["requests"]),
        seconds=float(data["seconds"]),
    )
    print(result.line(), flush=True)
    return result
