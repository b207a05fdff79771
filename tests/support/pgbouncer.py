"""A real PgBouncer (Debian's ``pgbouncer``) in transaction pooling mode in front of the test PostgreSQL.

``MEET_TEST_PGBOUNCER_URL`` (host and port of a running PgBouncer in front of the same PostgreSQL)
wins; otherwise the local binary on a free 127.0.0.1 port, with its own ini and auth file in a
temporary directory. Without the binary the run fails and says what to install; it never skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.services import Postgres, _binary, _stop, free_port, wait_for_port

# The tests' PgBouncer makes transaction pooling's promise strict: after every transaction the server
# connection runs DISCARD ALL (server_reset_query_always), so nothing a transaction leaves on the server
# (a prepared statement, a SET, a temporary table) reaches the next one, whoever's it is; the app
# relying on any of it fails the tests at once instead of now and then under load. Two server
# connections per database: transactions of different clients share them.
TEST_POOL_SIZE = 2


@dataclass(frozen=True)
class PgBouncer:
    """PgBouncer in front of ``postgres``; ``url(database)`` is the SQLAlchemy URL through it."""

    host: str
    port: int
    postgres: Postgres

    def url(self, database: str | None = None) -> str:
        direct = make_url(self.postgres.url(database))
        return direct.set(host=self.host, port=self.port).render_as_string(hide_password=False)

    def through(self, direct_url: str) -> str:
        """The same database as ``direct_url`` (a URL of ``postgres``), reached through PgBouncer."""
        return make_url(direct_url).set(host=self.host, port=self.port).render_as_string(hide_password=False)


def _ini(workdir: Path, port: int, postgres: Postgres, pool_size: int, *, strict: bool) -> str:
    return f"""\
[databases]
* = host={postgres.host} port={postgres.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
auth_type = {"plain" if postgres.password else "trust"}
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 1000
query_wait_timeout = 10
server_reset_query = {"DISCARD ALL" if strict else ""}
server_reset_query_always = {1 if strict else 0}
ignore_startup_parameters = extra_float_digits,options
"""


@contextlib.contextmanager
def start_pgbouncer(postgres: Postgres, *, pool_size: int = TEST_POOL_SIZE, strict: bool = True) -> Iterator[PgBouncer]:
    """``strict``: the reset after every transaction (tests); off for the benchmark, as in production."""
    if url := os.environ.get("MEET_TEST_PGBOUNCER_URL"):
        parsed = make_url(url)
        yield PgBouncer(host=parsed.host or "127.0.0.1", port=parsed.port or 6432, postgres=postgres)
        return
    binary = _binary("pgbouncer", "/usr/sbin/pgbouncer", install="apt-get install pgbouncer")
    workdir = Path(tempfile.mkdtemp(prefix="meet-pgbouncer-"))
    port = free_port()
    (workdir / "pgbouncer.ini").write_text(_ini(workdir, port, postgres, pool_size, strict=strict), encoding="utf-8")
    (workdir / "users.txt").write_text(f'"{postgres.user}" "{postgres.password}"\n', encoding="utf-8")
    # PgBouncer refuses to run as root: run it as the postgres system user, like the local PostgreSQL.
    as_owner: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(workdir, user="postgres", group="postgres")
        for path in workdir.iterdir():
            shutil.chown(path, user="postgres", group="postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    process = subprocess.Popen(
        [*as_owner, binary, str(workdir / "pgbouncer.ini")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process=process)
        yield PgBouncer(host="127.0.0.1", port=port, postgres=postgres)
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
