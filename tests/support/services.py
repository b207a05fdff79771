"""Find the real backing services the integration tests need.

Each service is found in this order: an explicit URL in the environment (``MEET_TEST_*``);
testcontainers when a Docker engine answers; a local server binary started on a free
127.0.0.1 port in a temporary directory. When none is available, the run fails with a
message saying what to install. Nothing is ever skipped silently.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ServiceNotFound(RuntimeError):
    """No way to reach or start a required service on this machine."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: each stays bound until all are picked, so none is handed out twice."""
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0, process: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceNotFound(f"the server on port {port} exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise ServiceNotFound(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def docker_available() -> bool:
    """A Docker engine answers (not merely a docker client installed)."""
    if os.environ.get("MEET_TEST_NO_DOCKER"):
        return False
    try:
        import docker  # noqa: PLC0415 - only when testcontainers may be used

        client = docker.from_env(timeout=2)
        client.ping()
    except Exception:
        return False
    return True


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _binary(name: str, *candidates: str, install: str) -> str:
    found = shutil.which(name) or next((c for pattern in candidates for c in sorted(glob.glob(pattern))), None)
    if not found:
        raise ServiceNotFound(
            f"{name} is needed by the integration tests: set the MEET_TEST_* URL of a running server, "
            f"start a Docker engine, or install it ({install})."
        )
    return found


# PostgreSQL ------------------------------------------------------------------------------------


@dataclass
class Postgres:
    """A PostgreSQL server; ``url`` is a SQLAlchemy asyncpg URL to its ``postgres`` database."""

    host: str
    port: int
    user: str
    password: str
    database: str = "postgres"

    def url(self, database: str | None = None) -> str:
        auth = f"{self.user}:{self.password}" if self.password else self.user
        return f"postgresql+asyncpg://{auth}@{self.host}:{self.port}/{database or self.database}"


def _postgres_from_url(url: str) -> Postgres:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    parsed = make_url(url)
    return Postgres(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or "",
        database=parsed.database or "postgres",
    )


@contextlib.contextmanager
def start_postgres() -> Iterator[Postgres]:
    if url := os.environ.get("MEET_TEST_POSTGRES_URL"):
        yield _postgres_from_url(url)
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer  # noqa: PLC0415

        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
            yield _postgres_from_url(container.get_connection_url())
        return
    yield from _local_postgres()


@dataclass
class LocalPostgres(Postgres):
    """A PostgreSQL of the test run's own, from the local binaries; ``stop()``/``start()`` simulate an outage."""

    _command: list[str] = field(default_factory=list, repr=False)
    _data: Path | None = field(default=None, repr=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._process is not None and self._process.poll() is None:
            return
        lock = self._data / "postmaster.pid" if self._data else None
        deadline = time.monotonic() + 30
        while lock is not None and lock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # the previous postmaster is still shutting down (it outlives runuser)
        self._process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, process=self._process)
        _wait_until_accepting(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Shut the server down: ``fast`` (SIGINT to the postmaster: clients are cut off at once, as in a
        failover) or ``immediate`` (SIGQUIT: every process quits without cleaning up, as in a crash)."""
        lock = self._data / "postmaster.pid" if self._data else None
        sig = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        if lock is not None and lock.exists():
            with contextlib.suppress(ValueError, ProcessLookupError, OSError):
                os.kill(int(lock.read_text().split()[0]), sig)
        if self._process is not None:
            _stop(self._process)
            self._process = None


@contextlib.contextmanager
def start_local_postgres() -> Iterator[LocalPostgres]:
    install = "apt-get install postgresql"
    initdb = _binary("initdb", "/usr/lib/postgresql/*/bin/initdb", install=install)
    postgres = str(Path(initdb).resolve().with_name("postgres"))
    workdir = Path(tempfile.mkdtemp(prefix="meet-pg-"))
    data = workdir / "data"
    # initdb and postgres refuse to run as root: run them as the postgres system user.
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, user="postgres", group="postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*as_owner, initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    command = [
        *as_owner, postgres, "-D", str(data), "-p", str(port), "-k", str(workdir),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
        "-c", "synchronous_commit=off", "-c", "max_connections=200",
    ]  # fmt: skip
    server = LocalPostgres(host="127.0.0.1", port=port, user="postgres", password="", _command=command, _data=data)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _local_postgres() -> Iterator[Postgres]:
    with start_local_postgres() as server:
        yield server


def _wait_until_accepting(port: int, timeout: float = 30.0) -> None:
    import asyncio  # noqa: PLC0415

    import asyncpg  # noqa: PLC0415

    async def probe() -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                connection = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
            except (OSError, asyncpg.CannotConnectNowError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
            else:
                await connection.close()
                return

    # In a thread of its own: callers may be inside a running event loop (async tests).
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(probe())
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# Redis -----------------------------------------------------------------------------------------


@dataclass
class Redis:
    """A Redis server. ``stop()``/``start()`` (local binary only) simulate an outage on the same port."""

    url: str
    port: int
    _binary: str | None = None
    _workdir: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if self._binary is None or self._workdir is None:
            raise ServiceNotFound("stopping and restarting Redis needs the local redis-server binary")
        if self._process is not None and self._process.poll() is None:
            return
        self._process = subprocess.Popen(
            [
                self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self._workdir), "--protected-mode", "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, process=self._process)

    def stop(self) -> None:
        if self._binary is None:
            raise ServiceNotFound("stopping and restarting Redis needs the local redis-server binary")
        if self._process is not None:
            _stop(self._process)
            self._process = None

    def kill(self) -> None:
        """SIGKILL: Redis dies mid-answer, as in a crash (only the instance this fixture started)."""
        if self._binary is None:
            raise ServiceNotFound("killing and restarting Redis needs the local redis-server binary")
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


@contextlib.contextmanager
def start_redis() -> Iterator[Redis]:
    if url := os.environ.get("MEET_TEST_REDIS_URL"):
        yield Redis(url=url, port=int(url.rsplit(":", 1)[1].split("/")[0]))
        return
    if docker_available():
        from testcontainers.redis import RedisContainer  # noqa: PLC0415

        with RedisContainer("redis:7-alpine") as container:
            host, port = container.get_container_host_ip(), int(container.get_exposed_port(6379))
            yield Redis(url=f"redis://{host}:{port}/0", port=port)
        return
    with start_local_redis() as server:
        yield server


@contextlib.contextmanager
def start_local_redis() -> Iterator[Redis]:
    """A Redis of the test's own, from the local binary, that the test may stop and start."""
    binary = _binary("redis-server", install="apt-get install redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="meet-redis-"))
    port = free_port()
    server = Redis(url=f"redis://127.0.0.1:{port}/0", port=port, _binary=binary, _workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# S3 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self) -> Any:
        import boto3  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def create_bucket(self, name: str) -> None:
        client = self.client()
        with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
            client.create_bucket(Bucket=name)


@contextlib.contextmanager
def start_s3() -> Iterator[S3]:
    if url := os.environ.get("MEET_TEST_S3_URL"):
        yield S3(
            endpoint_url=url,
            access_key=os.environ.get("MEET_TEST_S3_ACCESS_KEY", "minioadmin"),
            secret_key=os.environ.get("MEET_TEST_S3_SECRET_KEY", "minioadmin"),
            region=os.environ.get("MEET_TEST_S3_REGION", "us-east-1"),
        )
        return
    if docker_available():
        from testcontainers.minio import MinioContainer  # noqa: PLC0415

        with MinioContainer() as container:
            config = container.get_config()
            yield S3(
                endpoint_url=f"http://{config['endpoint']}",
                access_key=config["access_key"],
                secret_key=config["secret_key"],
            )
        return
    try:
        import moto.server  # noqa: F401, PLC0415
    except ImportError as error:
        raise ServiceNotFound("an S3 endpoint is needed: install moto[server] (uv sync) or MinIO") from error
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_S3_CUSTOM_ENDPOINTS": f"http://127.0.0.1:{port}"},
    )
    try:
        wait_for_port(port, process=process)
        yield S3(endpoint_url=f"http://127.0.0.1:{port}", access_key="test-access-key", secret_key="test-secret-key")
    finally:
        _stop(process)


# OIDC provider ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OidcProvider:
    """An OpenID Connect provider. The mock accepts any client id and secret and any redirect URI;
    ``PUT {issuer}/users/{sub}`` sets a user's claims; a form POST to the authorization endpoint
    with ``sub`` signs that user in."""

    issuer: str
    client_id: str = "meet"
    client_secret: str = "meet-secret"


@contextlib.contextmanager
def start_oidc_provider() -> Iterator[OidcProvider]:
    if issuer := os.environ.get("MEET_TEST_OIDC_ISSUER"):
        yield OidcProvider(
            issuer=issuer,
            client_id=os.environ.get("MEET_TEST_OIDC_CLIENT_ID", "meet"),
            client_secret=os.environ.get("MEET_TEST_OIDC_CLIENT_SECRET", "meet-secret"),
        )
        return
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
            "true",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield OidcProvider(issuer=f"http://127.0.0.1:{port}")
    finally:
        _stop(process)


# A real OAuth 2.0 / OIDC provider with JWT access tokens and introspection (Node) -----------------

NODE_PROVIDER_SOURCE = Path(__file__).with_name("oidc_node")
NODE_PROVIDER_CACHE = Path(__file__).resolve().parents[2] / ".cache" / "oidc-provider-node"


@dataclass(frozen=True)
class NodeOidcProvider:
    """panva's certified ``oidc-provider`` on Node: JWT (RFC 9068) and opaque access tokens for the
    resource indicator ``audience``, introspection (RFC 7662) for the client ``client_id``."""

    issuer: str
    audience: str
    client_id: str = "meet"
    client_secret: str = "meet-secret"

    def access_token(self, sub: str, *, scope: str | None = None, opaque: bool = False, **extra: Any) -> str:
        """A user's access token, minted by the provider as its token endpoint would after a sign-in."""
        import httpx  # noqa: PLC0415 - only this helper talks HTTP

        body = {"sub": sub, "format": "opaque" if opaque else "jwt", **({"scope": scope} if scope else {}), **extra}
        response = httpx.post(f"{self.issuer}/test/access-token", json=body, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])


def install_node_provider() -> Path:
    """``npm ci`` the pinned provider into an ignored cache folder, once per version of the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise ServiceNotFound("Node.js and npm are needed for the OIDC provider tests (apt-get install nodejs npm).")
    NODE_PROVIDER_CACHE.mkdir(parents=True, exist_ok=True)
    lock = (NODE_PROVIDER_SOURCE / "package-lock.json").read_bytes()
    installed = NODE_PROVIDER_CACHE / "node_modules" / ".meet-lock"
    for name in ("package.json", "package-lock.json", "server.mjs"):
        shutil.copyfile(NODE_PROVIDER_SOURCE / name, NODE_PROVIDER_CACHE / name)
    if not installed.is_file() or installed.read_bytes() != lock:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=NODE_PROVIDER_CACHE,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceNotFound(f"npm ci of oidc-provider failed: {result.stderr[-2000:]}")
        installed.write_bytes(lock)
    return NODE_PROVIDER_CACHE / "server.mjs"


@contextlib.contextmanager
def start_node_oidc_provider(audience: str = "https://meet.test/api") -> Iterator[NodeOidcProvider]:
    if issuer := os.environ.get("MEET_TEST_NODE_OIDC_ISSUER"):
        yield NodeOidcProvider(issuer=issuer, audience=os.environ.get("MEET_TEST_NODE_OIDC_AUDIENCE", audience))
        return
    script = install_node_provider()
    port = free_port()
    process = subprocess.Popen(
        [shutil.which("node") or "node", str(script)],
        cwd=script.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={
            **os.environ,
            "PORT": str(port),
            "AUDIENCE": audience,
            "CLIENT_ID": "meet",
            "CLIENT_SECRET": "meet-secret",
        },
    )
    try:
        wait_for_port(port, process=process)
        yield NodeOidcProvider(issuer=f"http://127.0.0.1:{port}", audience=audience)
    finally:
        _stop(process)


# SMTP ------------------------------------------------------------------------------------------


@dataclass
class SmtpServer:
    """A real SMTP server (aiosmtpd) in a separate process; received messages land in ``maildir``."""

    host: str
    port: int
    maildir: Path

    def messages(self) -> list[bytes]:
        return [path.read_bytes() for path in sorted((self.maildir / "new").glob("*"))]


@contextlib.contextmanager
def start_smtp() -> Iterator[SmtpServer]:
    workdir = Path(tempfile.mkdtemp(prefix="meet-smtp-"))
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(workdir / "mail"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield SmtpServer(host="127.0.0.1", port=port, maildir=workdir / "mail")
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)


# nginx -----------------------------------------------------------------------------------------


def find_nginx() -> str:
    return _binary("nginx", "/usr/sbin/nginx", install="apt-get install nginx-light")
