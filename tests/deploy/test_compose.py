"""compose.yaml: a valid Compose file whose services agree on addresses, routes and secrets."""

from __future__ import annotations

from typing import Any

import pytest

from meet.entrypoints.http.app import build_app
from meet.entrypoints.settings import Profile, load_settings
from tests.support.compose import (
    ENV_EXAMPLE,
    ROOT,
    InterpolationError,
    compose_problems,
    environment,
    load_compose,
    mutated,
    read_env_file,
)


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def config(env: dict[str, str]) -> dict[str, Any]:
    return load_compose(env)


@pytest.fixture(scope="module")
def api_routes(config: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    # The frontend's build lives in the container's volume; a stand-in build here lets the app start.
    build = tmp_path_factory.mktemp("frontend")
    (build / "index.html").write_text("<!doctype html>")
    env = {**environment(config["services"]["api"]), "MEET_FRONTEND_DIR": str(build)}
    settings = load_settings(env, dotenv=None)
    return {route.path for route in build_app(settings).routes}


def test_the_stack_has_every_service(config: dict[str, Any]) -> None:
    assert set(config["services"]) == {
        "migrate", "api", "nginx", "postgres", "redis", "minio", "minio-setup", "livekit", "egress", "frontend"
    }  # fmt: skip


def test_the_api_serves_the_frontend_the_frontend_service_builds(config: dict[str, Any]) -> None:
    services = config["services"]
    api, frontend = services["api"], services["frontend"]
    api_env = environment(api)
    assert api_env["MEET_LASUITE_API"] == "true"
    served = api_env["MEET_FRONTEND_DIR"]
    # The build script writes exactly the folder the API serves, through one volume both mount.
    assert frontend["command"][-2:] == ["/sources/build.sh", served]
    (volume, mount, mode), *_ = (entry.split(":") for entry in api["volumes"] if entry.startswith("frontend:"))
    assert mode == "ro"
    assert served.startswith(mount + "/")
    assert f"{volume}:{mount}" in frontend["volumes"]
    assert any(entry.endswith(":/sources:ro") for entry in frontend["volumes"])
    assert api["depends_on"]["frontend"] == {"condition": "service_completed_successfully"}
    # nginx hands every path but the guarded media to the API, which serves the app on /.
    assert "location / {" in (ROOT / "deploy" / "nginx" / "meet.conf").read_text()


def test_services_agree_on_addresses_routes_and_secrets(config: dict[str, Any], api_routes: set[str]) -> None:
    assert compose_problems(config, api_routes) == []


def test_the_api_environment_is_a_valid_production_configuration(config: dict[str, Any]) -> None:
    settings = load_settings(environment(config["services"]["api"]), dotenv=None)
    assert settings.profile is Profile.PRODUCTION
    assert settings.redis_url
    assert settings.s3_endpoint_url
    assert settings.storage_hook_token
    assert settings.metrics_token


def test_a_missing_secret_stops_compose_with_its_name(env: dict[str, str]) -> None:
    without = {key: value for key, value in env.items() if key != "MEET_LIVEKIT_API_SECRET"}
    with pytest.raises(InterpolationError, match="MEET_LIVEKIT_API_SECRET"):
        load_compose(without)


def test_an_invalid_compose_file_is_refused_by_the_parser(env: dict[str, str], tmp_path: Any) -> None:
    broken = tmp_path / "compose.yaml"
    text = (ENV_EXAMPLE.parent / "compose.yaml").read_text()
    broken.write_text(text.replace('restart: "no"', "restart: sometimes", 1))
    with pytest.raises(ValueError, match="restart"):
        load_compose(env, broken)


def _set_livekit_config(config: dict[str, Any], old: str, new: str) -> None:
    environment = config["services"]["livekit"]["environment"]
    environment["LIVEKIT_CONFIG"] = environment["LIVEKIT_CONFIG"].replace(old, new)


def _set_api(config: dict[str, Any], name: str, value: str) -> None:
    config["services"]["api"]["environment"] = {**config["services"]["api"]["environment"], name: value}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: _set_api(c, "MEET_LIVEKIT_URL", "ws://livekit:7881"), "MEET_LIVEKIT_URL"),
        (lambda c: _set_livekit_config(c, "/api/v1/webhooks/livekit", "/api/v1/webhook"), "no route"),
        (lambda c: _set_livekit_config(c, "http://api:8000", "http://nginx:80"), "not the api service"),
        (lambda c: _set_api(c, "MEET_LIVEKIT_API_SECRET", "x" * 40), "key pair"),
        (lambda c: _set_api(c, "MEET_S3_BUCKET", "elsewhere"), "another bucket"),
        (lambda c: _set_api(c, "MEET_STORAGE_HOOK_TOKEN", "y" * 40), "notification token"),
        (lambda c: c["services"]["nginx"].update(command=["nginx"]), "upstream"),
        (lambda c: _set_api(c, "MEET_DATABASE_URL", "postgresql+asyncpg://meet:wrong@postgres/meet"), "password"),
    ],
)
def test_a_disagreement_is_found_and_named(
    config: dict[str, Any], api_routes: set[str], change: Any, problem: str
) -> None:
    problems = compose_problems(mutated(config, change), api_routes)
    assert any(problem in line for line in problems), problems
