"""A real nginx running deploy/nginx/meet.conf, rendered with the test's ports."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.services import _stop, free_port, wait_for_port

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "meet.conf"


def render(template: str, **values: str) -> str:
    """Replace each ``@NAME@`` (``name=value``); a placeholder left over is an error."""
    for name, value in values.items():
        template = template.replace(f"@{name.upper()}@", value)
    template = template.replace("@PLACEHOLDER@", "placeholder")
    if left := re.findall(r"@[A-Z0-9_]+@", template):
        raise ValueError(f"placeholders without a value: {sorted(set(left))}")
    return template


@dataclass
class Nginx:
    port: int
    error_log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """GET the request target exactly as written (no client-side normalisation of dots or escapes)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", target, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@contextlib.contextmanager
def start_nginx(binary: str, *, api_url: str, s3_endpoint_url: str, bucket: str) -> Iterator[Nginx]:
    workdir = Path(tempfile.mkdtemp(prefix="meet-nginx-"))
    port = free_port()
    storage = urlsplit(s3_endpoint_url)
    server = render(
        TEMPLATE.read_text(),
        listen=f"127.0.0.1:{port}",
        api_address=urlsplit(api_url).netloc,
        s3_scheme=storage.scheme,
        s3_address=storage.netloc,
        s3_host=storage.netloc,
        s3_bucket=bucket,
    )
    (workdir / "meet.conf").write_text(server)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the private temp folder
    (workdir / "nginx.conf").write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log info;\n"
        "events { worker_connections 256; }\n"
        "http {\n"
        f"  access_log {workdir}/access.log;\n"
        f"  client_body_temp_path {workdir}/body;\n  proxy_temp_path {workdir}/proxy;\n"
        f"  fastcgi_temp_path {workdir}/fastcgi;\n  uwsgi_temp_path {workdir}/uwsgi;\n"
        f"  scgi_temp_path {workdir}/scgi;\n"
        f"  include {workdir}/meet.conf;\n"
        "}\n"
    )
    check = subprocess.run(
        [binary, "-t", "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused the rendered configuration:\n{check.stderr}")
    process = subprocess.Popen(
        [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
        yield Nginx(port=port, error_log=workdir / "error.log")
    finally:
        _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
