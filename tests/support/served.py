"""``meet serve`` as a real process, the way the README runs it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.services import ServiceNotFound, free_port

MEET = str(Path(sys.executable).with_name("meet"))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any MEET_ variable of the developer's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEET_")}
    return {**env, **extra}


@dataclass
class Served:
    base_url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        """What the server has written so far (stdout and stderr)."""
        return self.log.read_text()


@contextlib.contextmanager
def serve(cwd: Path, *, timeout: float = 120, log: Path | str | None = None, **settings: str) -> Iterator[Served]:
    """Run ``meet serve`` on a free port with ``MEET_<NAME>`` settings; wait until it answers.

    The server's output goes to ``log`` (by default ``meet-serve-<port>.log`` in ``cwd``), never to a pipe:
    nobody reads a pipe while the test runs, and a server that logs more than its 64 KB (a failover's
    warnings) would block on it, its event loop with it.
    """
    port = free_port()
    env = clean_env(**{f"MEET_{name.upper()}": value for name, value in settings.items()})
    log_path = Path(log) if log else cwd / f"meet-serve-{port}.log"
    with log_path.open("w") as output:
        process = subprocess.Popen(
            [MEET, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise ServiceNotFound(f"meet serve exited: {log_path.read_text()}") from None
                if time.monotonic() > deadline:
                    raise ServiceNotFound(f"meet serve did not answer within {timeout} s") from None
                time.sleep(0.1)
        yield Served(base, process, log_path)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
