"""``MEET_FRONTEND_DIR``: a built single-page app on ``/`` beside the API, never in its way."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from meet.entrypoints.http.app import build_app
from meet.entrypoints.http.frontend import FrontendDirError, content_security_policy
from meet.entrypoints.settings import SettingsError, load_settings
from tests.api.conftest import Api
from tests.support.served import MEET, clean_env

INDEX = b"<!doctype html><html><body><div id=root></div><script src=/assets/index-AbC123.js></script></body></html>"
SCRIPT = b"console.log('app')"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    folder = tmp_path / "dist"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets" / "index-AbC123.js").write_bytes(SCRIPT)
    (folder / "favicon.ico").write_bytes(b"\x00\x00\x01\x00")
    (folder / "site.webmanifest").write_text("{}")
    (folder / ".env").write_text("SECRET=1")
    return folder


@pytest.fixture
async def served(api_with: Callable[..., Any], dist: Path) -> AsyncIterator[Api]:
    async with api_with(frontend_dir=str(dist), livekit_public_url="wss://sfu.example.org:7443") as api:
        yield api


@pytest.mark.parametrize("path", ["/", "/abc-defg-hij", "/recording/4f0c1a2e", "/sdk/create-button", "/feedback/"])
async def test_a_page_of_the_app_answers_index_html_never_cached_stale(served: Api, path: str) -> None:
    response = await served.request("GET", path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"]


async def test_a_hashed_asset_is_cached_for_a_year(served: Api) -> None:
    response = await served.request("GET", "/assets/index-AbC123.js")
    assert response.status_code == 200
    assert response.content == SCRIPT
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_an_unhashed_file_is_revalidated_and_answers_304_when_unchanged(served: Api) -> None:
    first = await served.request("GET", "/favicon.ico")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    again = await served.request("GET", "/favicon.ico", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


@pytest.mark.parametrize("path", ["/assets/gone-123.js", "/logo.png", "/.env", "/assets/../.env", "/sounds/x.mp3"])
async def test_a_missing_file_is_a_404_not_the_app(served: Api, path: str) -> None:
    response = await served.request("GET", path)
    assert response.status_code == 404
    assert response.content != INDEX
    assert response.json()["status"] == 404


async def test_the_api_health_and_metrics_are_not_shadowed(served: Api) -> None:
    assert (await served.request("GET", "/healthz")).json() == {"status": "ok"}
    assert (await served.request("GET", "/api/v1/config")).json()["livekit"]["url"] == "wss://sfu.example.org:7443"
    unknown = await served.request("GET", "/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.json()["status"] == 404
    assert (await served.request("GET", "/api/v1.0/nothing-here/")).status_code == 404
    metrics = await served.request("GET", "/metrics")
    assert metrics.content != INDEX
    docs = await served.request("GET", "/api/v1/docs/swagger")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
    assert (await served.request("GET", "/media/recordings/x.mp4")).content != INDEX


async def test_an_unsafe_method_on_a_page_is_not_the_app(served: Api) -> None:
    response = await served.request("POST", "/abc-defg-hij", json={})
    assert response.status_code in {404, 405}
    assert response.content != INDEX


async def test_the_app_gets_a_policy_that_lets_it_reach_livekit_and_nothing_else(served: Api) -> None:
    page = await served.request("GET", "/abc-defg-hij")
    policy = page.headers["content-security-policy"]
    assert policy == content_security_policy(["wss://sfu.example.org:7443"])
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["connect-src"] == "'self' wss://sfu.example.org:7443 https://sfu.example.org:7443"
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["img-src"] == "'self' data: blob:"
    assert directives["media-src"] == "'self' blob:"
    assert directives["worker-src"] == "'self' blob:"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    api = await served.request("GET", "/api/v1/config")
    assert api.headers["content-security-policy"].startswith("default-src 'none'")


def test_a_plain_livekit_url_is_allowed_over_ws_and_http() -> None:
    policy = content_security_policy(["ws://127.0.0.1:7880"])
    assert "connect-src 'self' ws://127.0.0.1:7880 http://127.0.0.1:7880;" in policy


def test_a_folder_without_index_html_is_a_problem(tmp_path: Path) -> None:
    settings = load_settings({"MEET_FRONTEND_DIR": str(tmp_path)}, dotenv=None)
    assert "no index.html" in str(settings.frontend_problem)


def test_a_missing_folder_is_a_problem(tmp_path: Path) -> None:
    settings = load_settings({"MEET_FRONTEND_DIR": str(tmp_path / "nowhere")}, dotenv=None)
    assert "is not a folder" in str(settings.frontend_problem)


def test_a_built_folder_is_no_problem(dist: Path) -> None:
    assert load_settings({"MEET_FRONTEND_DIR": str(dist)}, dotenv=None).frontend_problem is None


def test_the_app_refuses_a_folder_without_index_html(tmp_path: Path) -> None:
    settings = load_settings({"MEET_FRONTEND_DIR": str(tmp_path), "MEET_DATA_DIR": str(tmp_path)}, dotenv=None)
    with pytest.raises(FrontendDirError, match=r"index\.html"):
        build_app(settings)


def test_the_frontend_needs_livekit(dist: Path) -> None:
    with pytest.raises(SettingsError, match="LiveKit only"):
        load_settings({"MEET_FRONTEND_DIR": str(dist), "MEET_SFU": "janus"}, dotenv=None)


@pytest.mark.parametrize("where", ["empty", "nowhere"])
def test_meet_serve_stops_with_a_clear_error_on_a_bad_frontend_dir(tmp_path: Path, where: str) -> None:
    folder = tmp_path / where
    if where == "empty":
        folder.mkdir()
    result = subprocess.run(
        [MEET, "serve", "--port", "1"],
        cwd=tmp_path,
        env=clean_env(MEET_FRONTEND_DIR=str(folder)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MEET_FRONTEND_DIR" in result.stderr
    assert ("index.html" if where == "empty" else "is not a folder") in result.stderr
    assert "Traceback" not in result.stderr


def test_meet_check_reports_the_frontend(tmp_path: Path, dist: Path) -> None:
    """``meet check`` names the frontend beside the services (here LiveKit is down and nothing migrated:
    only the frontend's line and its place in the summary matter)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    reports = {}
    for name, folder in (("built", dist), ("empty", empty)):
        result = subprocess.run(
            [MEET, "check"],
            cwd=tmp_path,
            env=clean_env(MEET_FRONTEND_DIR=str(folder), MEET_DATA_DIR=str(tmp_path / name)),
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        reports[name] = {line.partition(": ")[0]: line.partition(": ")[2] for line in result.stdout.splitlines()}
    assert reports["built"]["frontend"] == "ok"
    assert "frontend" not in reports["built"]["meet check"]
    assert reports["empty"]["frontend"].startswith("FAILED (MEET_FRONTEND_DIR=")
    assert "frontend" in reports["empty"]["meet check"]


async def test_head_of_a_page_has_the_headers_and_no_body(served: Api) -> None:
    response = await served.request("HEAD", "/abc-defg-hij")
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(INDEX))
    assert response.content == b""
