"""Where the browser suite's build of La Suite Meet's frontend comes from, and what it says without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.lasuite_frontend import ENV_DIR, FrontendBuildMissing, find_frontend_build, sources_digest


def shared_copy(root: Path) -> Path:
    shared = root / "shared" / "lasuite-frontend"
    (shared / "frontend" / "src").mkdir(parents=True)
    (shared / "build.sh").write_text("#!/usr/bin/env bash\n")
    (shared / "frontend" / "src" / "main.tsx").write_text("render()")
    return shared


def test_a_given_build_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!doctype html>")
    assert find_frontend_build({ENV_DIR: str(tmp_path)}) == tmp_path


def test_a_given_folder_without_a_build_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(FrontendBuildMissing, match=ENV_DIR) as raised:
        find_frontend_build({ENV_DIR: str(tmp_path)})
    assert "build.sh" in str(raised.value)


def test_without_a_build_or_its_sources_the_suite_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FrontendBuildMissing) as raised:
        find_frontend_build({}, shared=tmp_path / "shared" / "lasuite-frontend", cache=tmp_path / "cache")
    message = str(raised.value)
    assert ENV_DIR in message
    assert "shared" in message
    assert "build.sh" in message


def test_a_cached_build_of_the_same_sources_is_reused(tmp_path: Path) -> None:
    shared = shared_copy(tmp_path)
    cached = tmp_path / "cache" / sources_digest(shared) / "dist"
    cached.mkdir(parents=True)
    (cached / "index.html").write_text("<!doctype html>")
    assert find_frontend_build({}, shared=shared, cache=tmp_path / "cache") == cached


def test_a_change_of_the_sources_changes_the_cache_key(tmp_path: Path) -> None:
    shared = shared_copy(tmp_path)
    before = sources_digest(shared)
    (shared / "frontend" / "src" / "main.tsx").write_text("render(changed)")
    assert sources_digest(shared) != before
    (shared / "frontend" / "node_modules").mkdir()
    (shared / "frontend" / "node_modules" / "left-behind.js").write_text("x")
    changed = sources_digest(shared)
    (shared / "frontend" / "node_modules" / "left-behind.js").write_text("y")
    assert sources_digest(shared) == changed
