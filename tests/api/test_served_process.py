"""The README's run command, as a newcomer runs it: a real process on the embedded default."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.served import MEET, Served, clean_env, serve
from tests.support.services import ServiceNotFound, free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    try:
        with serve(tmp_path) as running:
            yield running
    except ServiceNotFound as error:
        pytest.fail(str(error))


def test_serve_runs_on_the_embedded_default_with_no_configuration(served: Served, tmp_path: Path) -> None:
    base = served.base_url
    assert httpx.get(f"{base}/readyz").json()["status"] == "ok"
    assert (tmp_path / "var" / "meet.sqlite3").is_file()
    assert httpx.get(f"{base}/api/v1/docs/openapi.json").status_code == 200
    config = httpx.get(f"{base}/api/v1/config").json()
    assert config["livekit"]["url"] == "ws://localhost:7880"
    opened = httpx.get(f"{base}/api/v1/rooms/hello").json()
    assert opened["livekit"]["room"] == "hello"


def test_serve_prints_where_the_api_and_docs_are(served: Served) -> None:
    served.process.terminate()
    served.process.wait(timeout=10)
    output = served.output()
    port = served.base_url.rsplit(":", 1)[1]
    assert f"http://localhost:{port}" in output
    assert f"http://localhost:{port}/api/v1/docs" in output


def test_db_upgrade_migrates_the_configured_database(tmp_path: Path) -> None:
    result = subprocess.run(
        [MEET, "db", "upgrade"],
        cwd=tmp_path,
        env=clean_env(MEET_DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "meet.sqlite3").is_file()


def test_the_development_sign_in_refuses_to_start_in_production(tmp_path: Path) -> None:
    result = subprocess.run(
        [MEET, "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=clean_env(
            MEET_PROFILE="production",
            MEET_PUBLIC_URL="https://meet.example.org",
            MEET_DEV_LOGIN="true",
            MEET_SECRET_KEY="x" * 40,
            MEET_LIVEKIT_API_KEY="key",
            MEET_LIVEKIT_API_SECRET="s" * 40,
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MEET_DEV_LOGIN" in result.stderr


def test_a_malformed_setting_is_named_at_start_up(tmp_path: Path) -> None:
    result = subprocess.run(
        [MEET, "db", "upgrade"],
        cwd=tmp_path,
        env=clean_env(MEET_TOKEN_TTL_SECONDS="ten"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MEET_TOKEN_TTL_SECONDS" in result.stderr
