"""Processes the benchmark starts and always stops: PostgreSQL, Redis, a Redis Cluster, PgBouncer, the
LiveKit stand-in, the API.

PostgreSQL, Redis, the cluster and PgBouncer are always our own, from the local binaries on free
127.0.0.1 ports (never a ``MEET_TEST_*`` URL, a container, or the machine's 5432/6379 services).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.pgbouncer import PgBouncer, start_pgbouncer
from tests.support.redis_cluster import RedisClusterServer, start_local_redis_cluster
from tests.support.services import Postgres, free_port, start_local_postgres, start_local_redis, wait_for_port

from meet.entrypoints.server_protocol import HTTP_PROTOCOL

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "ROOT",
    "Server",
    "api_server",
    "livekit_stub",
    "scaled_out_services",
    "start_local_postgres",
    "start_local_redis",
]

# PgBouncer's server connections to the benchmark's database: what a production one would have for a few
# API processes (each holds up to twice MEET_DATABASE_POOL_SIZE client connections, for SQLAlchemy and
# the room reader's asyncpg pool, which PgBouncer multiplexes onto these).
PGBOUNCER_POOL_SIZE = 20


@contextlib.contextmanager
def scaled_out_services(postgres: Postgres) -> Iterator[tuple[PgBouncer, RedisClusterServer]]:
    """PgBouncer (transaction pooling, no reset after each transaction, as in production) in front of
    ``postgres``, and a Redis Cluster of three masters with a replica each."""
    with (
        start_pgbouncer(postgres, pool_size=PGBOUNCER_POOL_SIZE, strict=False) as bouncer,
        start_local_redis_cluster() as cluster,
    ):
        yield bouncer, cluster


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: list[int] = field(default_factory=list)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def worker_pids(pid: int) -> list[int]:
    """The server's worker processes (uvicorn's spawned workers or granian's), not its helper processes."""
    return [child for child in _children(pid) if "resource_tracker" not in _cmdline(child)]


@contextlib.contextmanager
def livekit_stub(logdir: Path) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "bench.livekit_stub:app", "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with (logdir / "livekit-stub.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
    try:
        wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop_group(process)


def server_command(server: str, workers: int, port: int) -> list[str]:
    """The API as ``meet serve`` runs it (uvicorn, proxy headers from 127.0.0.1), on the bench-only app."""
    if server == "granian":
        return [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-ws", "bench.app:create",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "uvicorn", "bench.app:create", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--proxy-headers",
        "--forwarded-allow-ips", "127.0.0.1", "--http", HTTP_PROTOCOL, "--no-server-header",
    ]  # fmt: skip


@contextlib.contextmanager
def api_server(env: dict[str, str], workers: int, logdir: Path, *, server: str = "uvicorn") -> Iterator[Server]:
    port = free_port()
    log_path = logdir / f"api-{server}-{workers}w-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            server_command(server, workers, port), cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        ready = 0
        # Every worker imports and builds the app on its own: wait until many fresh connections in a row
        # succeed, so that no worker is still starting when a measurement begins.
        while ready < 4 * workers:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited during start-up; its log:\n{log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start within 90 s; its log:\n{log_path.read_text()[-3000:]}")
            try:
                ready = ready + 1 if httpx.get(f"{base}/bench/constant", timeout=2).status_code == 200 else 0
            except httpx.TransportError:
                ready = 0
                time.sleep(0.2)
        time.sleep(1.0)
        yield Server(base=base, process=process, log=log_path, workers=worker_pids(process.pid))
    finally:
        _stop_group(process)
