"""The Dockerfile: hadolint-clean, and the image runs `meet serve` as an unprivileged user with a health check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("hadolint is missing: it comes with the dev dependencies (uv sync --frozen)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([hadolint(), "--no-color", str(path)], capture_output=True, text=True, check=False)


def final_stage() -> list[str]:
    stages = DOCKERFILE.read_text().split("\nFROM ")
    return [line.strip() for line in stages[-1].splitlines() if line.strip() and not line.startswith("#")]


def test_hadolint_finds_nothing() -> None:
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_what_it_should(tmp_path: Path) -> None:
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nUSER root\n")
    result = lint(careless)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest
    assert "DL3002" in result.stdout  # last USER is root


def test_the_image_serves_as_an_unprivileged_user_with_a_health_check() -> None:
    stage = final_stage()
    users = [line.split()[1] for line in stage if line.startswith("USER ")]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"0", "root"}
    assert 'ENTRYPOINT ["meet"]' in stage
    assert any(line.startswith('CMD ["serve"') for line in stage)
    text = DOCKERFILE.read_text()
    assert "/healthz" in text[text.index("\nHEALTHCHECK ") : text.index("\nENTRYPOINT ")]


def test_the_runtime_stage_has_no_build_tool_and_no_dev_dependency() -> None:
    stage = "\n".join(final_stage())
    # Only the locked, non-dev virtual environment comes from the build stage; uv stays behind.
    assert "COPY --from=build /app/.venv /app/.venv" in stage
    for tool in ("uv ", "pip install", "apt-get", "gcc", "build-essential"):
        assert tool not in stage, tool
    assert "--no-dev" in DOCKERFILE.read_text()
    assert "--frozen" in DOCKERFILE.read_text()
