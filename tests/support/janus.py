"""A real Janus (Meetecho's WebRTC server, VideoRoom plugin) for the tests.

``start_janus()`` finds one in this order:

- ``MEET_TEST_JANUS_URL`` (its REST endpoint, e.g. ``http://127.0.0.1:8088/janus``): a Janus already
  running, configured like ``deploy/janus/`` with ``MEET_TEST_JANUS_TOKEN_SECRET`` (the core's
  ``token_auth_secret``), ``MEET_TEST_JANUS_ADMIN_KEY`` (VideoRoom's ``admin_key``) and its HTTP event
  handler posting to ``http://127.0.0.1:$MEET_TEST_JANUS_EVENTS_PORT/`` (the tests listen there);
- Debian's ``janus`` binary, started with a configuration generated in a temporary directory: token
  auth with a signed-token secret, the HTTP transport and the Admin API on free 127.0.0.1 ports, only
  the VideoRoom plugin (``admin_key``, ``string_ids``, events on), only the HTTP event handler
  (pointed at a sink the tests read, with basic auth), ICE on the loopback interface only.

When neither is there the run fails and says what to install; it never skips.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.support.services import ServiceNotFound, free_port, wait_for_port

JANUS_URL_ENV = "MEET_TEST_JANUS_URL"
INSTALL = "apt-get install janus"
_LIBDIR_CANDIDATES = ("/usr/lib/x86_64-linux-gnu/janus", "/usr/lib/aarch64-linux-gnu/janus", "/usr/lib/janus")
_KEEP = {
    "plugins": "libjanus_videoroom.so",
    "transports": "libjanus_http.so",
    "events": "libjanus_sampleevh.so",
    "loggers": "",
}


class JanusEvents:
    """What Janus's HTTP event handler posted: every request body, in arrival order, and the events in them.

    Requests without the expected basic-auth credentials are answered 401 and kept apart, so a test can
    tell that Janus did authenticate.
    """

    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._events: list[dict[str, Any]] = []
        self.rejected = 0

    def expected_authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def received(self, body: bytes, authorization: str | None) -> bool:
        if authorization != self.expected_authorization():
            with self._lock:
                self.rejected += 1
            return False
        parsed = json.loads(body)
        with self._lock:
            self._bodies.append(body)
            self._events.extend(parsed if isinstance(parsed, list) else [parsed])
        return True

    def bodies(self) -> list[bytes]:
        with self._lock:
            return list(self._bodies)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events)

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], *, timeout: float = 10.0, after: int = 0
    ) -> dict[str, Any]:
        """The first event (from index ``after``) matching ``predicate``; bounded polling, never a fixed sleep."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events()[after:]:
                if predicate(event):
                    return event
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching Janus event within {timeout} s; got {self.events()[after:]}")
            time.sleep(0.02)


async def arrival(
    events: JanusEvents, predicate: Callable[[dict[str, Any]], bool], *, within: float = 10.0, after: int = 0
) -> dict[str, Any]:
    """``events.wait_for`` for async tests: polls without blocking the event loop."""
    deadline = time.monotonic() + within
    while True:
        found = [event for event in events.events()[after:] if predicate(event)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no matching Janus event within {within} s")
        await asyncio.sleep(0.02)


async def until(condition: Callable[[], Awaitable[bool]], *, within: float = 10.0) -> None:
    """Bounded polling of an async condition (never a fixed sleep)."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


def meet_settings(janus: Janus, **extra: str) -> dict[str, str]:
    """The ``MEET_*`` settings (lower-case names, without the prefix) that point meet at ``janus``."""
    return {
        "sfu": "janus",
        "janus_url": janus.url,
        "janus_admin_url": janus.admin_url,
        "janus_admin_secret": janus.admin_secret,
        "janus_admin_key": janus.admin_key,
        "janus_token_secret": janus.token_secret,
        "janus_events_user": janus.events.user,
        "janus_events_password": janus.events.password,
        **extra,
    }


def plugin_event(event: dict[str, Any]) -> dict[str, Any]:
    """The VideoRoom's own part of a plugin event (``{}`` for other events)."""
    if event.get("type") != 64:  # JANUS_EVENT_TYPE_PLUGIN
        return {}
    data = event.get("event", {}).get("data")
    return data if isinstance(data, dict) else {}


def _sink(events: JanusEvents, forward: list[Callable[[bytes, str | None], None]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            authorization = self.headers.get("Authorization")
            accepted = events.received(body, authorization)
            if accepted:
                for target in list(forward):
                    target(body, authorization)
            self.send_response(200 if accepted else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002 - the base class signature
            return

    return ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("MEET_TEST_JANUS_EVENTS_PORT") or 0)), Handler)


@dataclass
class Janus:
    """A running Janus: its REST and Admin endpoints, the secrets meet needs, and the events it posted."""

    url: str
    admin_url: str
    admin_secret: str
    token_secret: str
    admin_key: str
    events: JanusEvents
    log: Path | None = None
    forward: list[Callable[[bytes, str | None], None]] = field(default_factory=list)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""


def _libdir() -> Path:
    for candidate in _LIBDIR_CANDIDATES:
        if (Path(candidate) / "plugins" / "libjanus_videoroom.so").exists():
            return Path(candidate)
    raise ServiceNotFound(
        f"janus is needed by the integration tests: set {JANUS_URL_ENV} to a running Janus "
        f"(see deploy/janus/) or install it ({INSTALL})."
    )


def _disabled(folder: Path, keep: str) -> str:
    """Every module in ``folder`` except ``keep``: Janus loads all it finds unless told not to."""
    names = sorted({p.name.split(".so")[0] + ".so" for p in folder.glob("libjanus_*.so*")})
    return ",".join(name for name in names if name != keep)


@dataclass(frozen=True)
class JanusSetup:
    """What a generated configuration needs: where things are, the free ports, the secrets."""

    directory: Path
    libdir: Path
    http_port: int
    admin_port: int
    admin_secret: str
    token_secret: str
    admin_key: str
    events_url: str
    events_user: str
    events_password: str
    ice_enforce: str = "127.0.0.1"


def write_config(setup: JanusSetup) -> None:
    """The configuration files of a loopback-only Janus with signed tokens, VideoRoom and HTTP events."""
    disable = {kind: _disabled(setup.libdir / kind, keep) for kind, keep in _KEEP.items()}
    (setup.directory / "janus.jcfg").write_text(
        f"""general: {{
    configs_folder = "{setup.directory}"
    plugins_folder = "{setup.libdir / "plugins"}"
    transports_folder = "{setup.libdir / "transports"}"
    events_folder = "{setup.libdir / "events"}"
    loggers_folder = "{setup.libdir / "loggers"}"
    debug_level = 4
    debug_timestamps = true
    admin_secret = "{setup.admin_secret}"
    token_auth = true
    token_auth_secret = "{setup.token_secret}"
    server_name = "meet-test"
    session_timeout = 60
    protected_folders = ["/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var"]
}}
media: {{
    rtp_port_range = "20000-60000"
}}
nat: {{
    nice_debug = false
    ignore_mdns = true
    ice_enforce_list = "{setup.ice_enforce}"
}}
plugins: {{
    disable = "{disable["plugins"]}"
}}
transports: {{
    disable = "{disable["transports"]}"
}}
loggers: {{
    disable = "{disable["loggers"]}"
}}
events: {{
    broadcast = true
    disable = "{disable["events"]}"
    stats_period = 0
}}
"""
    )
    (setup.directory / "janus.transport.http.jcfg").write_text(
        f"""general: {{
    json = "compact"
    base_path = "/janus"
    http = true
    ip = "127.0.0.1"
    port = {setup.http_port}
    https = false
}}
admin: {{
    admin_base_path = "/admin"
    admin_http = true
    admin_ip = "127.0.0.1"
    admin_port = {setup.admin_port}
    admin_https = false
}}
cors: {{
}}
"""
    )
    (setup.directory / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
    admin_key = "{setup.admin_key}"
    lock_rtp_forward = true
    string_ids = true
    events = true
}}
"""
    )
    (setup.directory / "janus.eventhandler.sampleevh.jcfg").write_text(
        f"""general: {{
    enabled = true
    events = "sessions,handles,plugins,core"
    grouping = true
    json = "compact"
    backend = "{setup.events_url}"
    backend_user = "{setup.events_user}"
    backend_pwd = "{setup.events_password}"
    max_retransmissions = 5
    retransmissions_backoff = 100
}}
"""
    )


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise ServiceNotFound(f"janus exited with status {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/info", timeout=1).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise ServiceNotFound(f"janus did not answer on {url} within {timeout:.0f} s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextlib.contextmanager
def start_janus(writer: Callable[[JanusSetup], None] | None = None) -> Iterator[Janus]:
    """A Janus for the tests; ``writer`` writes its configuration (default: ``write_config``), and makes the
    fixture start a local one even when ``MEET_TEST_JANUS_URL`` names a running one."""
    user, password = "janus-events", secrets.token_urlsafe(16)
    url = os.environ.get(JANUS_URL_ENV) if writer is None else None
    if url:
        user = os.environ.get("MEET_TEST_JANUS_EVENTS_USER", user)
        password = os.environ.get("MEET_TEST_JANUS_EVENTS_PASSWORD", "")
    events = JanusEvents(user, password)
    forward: list[Callable[[bytes, str | None], None]] = []
    sink = _sink(events, forward)
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    try:
        if url:
            yield Janus(
                url=url.rstrip("/"),
                admin_url=os.environ.get("MEET_TEST_JANUS_ADMIN_URL", ""),
                admin_secret=os.environ.get("MEET_TEST_JANUS_ADMIN_SECRET", ""),
                token_secret=os.environ.get("MEET_TEST_JANUS_TOKEN_SECRET", ""),
                admin_key=os.environ.get("MEET_TEST_JANUS_ADMIN_KEY", ""),
                events=events,
                forward=forward,
            )
            return
        yield from _local_janus(events, forward, f"http://127.0.0.1:{sink.server_address[1]}/", writer or write_config)
    finally:
        sink.shutdown()
        sink.server_close()


def _local_janus(
    events: JanusEvents,
    forward: list[Callable[[bytes, str | None], None]],
    events_url: str,
    writer: Callable[[JanusSetup], None],
) -> Iterator[Janus]:
    binary = shutil.which("janus") or ("/usr/bin/janus" if Path("/usr/bin/janus").exists() else None)
    if binary is None:
        raise ServiceNotFound(
            f"janus is needed by the integration tests: set {JANUS_URL_ENV} to a running Janus "
            f"(see deploy/janus/) or install it ({INSTALL})."
        )
    libdir = _libdir()
    workdir = Path(tempfile.mkdtemp(prefix="meet-janus-"))
    http_port, admin_port = free_port(), free_port()
    janus = Janus(
        url=f"http://127.0.0.1:{http_port}/janus",
        admin_url=f"http://127.0.0.1:{admin_port}/admin",
        admin_secret=secrets.token_urlsafe(16),
        token_secret=secrets.token_urlsafe(24),
        admin_key=secrets.token_urlsafe(16),
        events=events,
        log=workdir / "janus.log",
        forward=forward,
    )
    writer(
        JanusSetup(
            directory=workdir,
            libdir=libdir,
            http_port=http_port,
            admin_port=admin_port,
            admin_secret=janus.admin_secret,
            token_secret=janus.token_secret,
            admin_key=janus.admin_key,
            events_url=events_url,
            events_user=events.user,
            events_password=events.password,
            ice_enforce=os.environ.get("MEET_TEST_JANUS_ICE_ADDRESS", "127.0.0.1"),
        )
    )
    with (workdir / "janus.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "--configs-folder", str(workdir), "--config", str(workdir / "janus.jcfg")],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    janus._process = process
    try:
        wait_for_port(http_port, process=process)
        _wait_until_answering(janus.url, process, workdir / "janus.log")
        yield janus
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "janus"


def write_deploy_config(setup: JanusSetup) -> None:
    """``deploy/janus/`` as shipped, with only what a machine must change: paths, ports, secrets, addresses.

    Every server binds 127.0.0.1 here (the sample leaves the REST API on all interfaces, as a server would).
    """
    replacements = {
        '"/etc/janus"': f'"{setup.directory}"',
        '"/usr/lib/x86_64-linux-gnu/janus/': f'"{setup.libdir}/',
        "CHANGE-ME-token-secret": setup.token_secret,
        "CHANGE-ME-admin-secret": setup.admin_secret,
        "CHANGE-ME-admin-key": setup.admin_key,
        "CHANGE-ME-events-password": setup.events_password,
        '"http://127.0.0.1:8000/api/v1/webhooks/janus"': f'"{setup.events_url}"',
        'backend_user = "janus"': f'backend_user = "{setup.events_user}"',
        "port = 8088": f'port = {setup.http_port}\n    ip = "127.0.0.1"',
        "admin_port = 7088": f"admin_port = {setup.admin_port}",
        "ignore_mdns = true": f'ignore_mdns = true\n    ice_enforce_list = "{setup.ice_enforce}"',
    }
    for source in sorted(DEPLOY.glob("*.jcfg")):
        text = source.read_text()
        for old, new in replacements.items():
            text = text.replace(old, new)
        if any("CHANGE-ME" in line for line in text.splitlines() if not line.lstrip().startswith("#")):
            raise AssertionError(f"{source.name}: a CHANGE-ME the test does not fill in")
        (setup.directory / source.name).write_text(text)
