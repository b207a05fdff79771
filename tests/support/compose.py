"""Read compose.yaml the way Compose does, and say where its services disagree with each other."""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from compose_spec import PyCompose

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"

# Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error},
# ${VAR:+replacement}, ${VAR+replacement}.
_VARIABLE = re.compile(r"\$(?:(\$)|([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\})")


class InterpolationError(ValueError):
    pass


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as Compose reads its .env (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'\"")
    return values


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        escaped, bare, name, operator, argument = match.groups()
        if escaped:
            return "$"
        if bare:
            return env.get(bare, "")
        value = env.get(name)
        unset_or_empty = value is None or (operator is not None and operator.startswith(":") and value == "")
        match operator:
            case None:
                return value or ""
            case ":-" | "-":
                return argument if unset_or_empty else str(value)
            case ":?" | "?":
                if unset_or_empty:
                    raise InterpolationError(f"{name}: {argument}")
                return str(value)
            case _:  # ":+" | "+"
                return "" if unset_or_empty else argument

    return _VARIABLE.sub(replace, text)


def load_compose(env: Mapping[str, str], path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The interpolated file, validated by a Compose Specification parser, as plain data."""
    text = interpolate(path.read_text(encoding="utf-8"), env)
    PyCompose.from_yaml(text).validate()
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(item.partition("=")[::2] for item in raw)
    return {key: "" if value is None else str(value) for key, value in raw.items()}


def _option(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def _address(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "ws": 80, "https": 443, "wss": 443, "postgresql+asyncpg": 5432, "redis": 6379}
    return parts.hostname, parts.port or default.get(parts.scheme)


def nginx_placeholders(nginx: Mapping[str, Any]) -> dict[str, str]:
    """The @PLACEHOLDER@ values the nginx service's sed command renders the shipped template with."""
    command = nginx["command"]
    script = command[-1] if isinstance(command, list) else command
    env = environment(nginx)
    values: dict[str, str] = {}
    words = shlex.split(script)
    for flag, expression in itertools.pairwise(words):
        if flag == "-e" and expression.startswith("s/@"):
            _, placeholder, value, _ = expression.split("/")
            values[placeholder.strip("@")] = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), value)
    return values


def compose_problems(config: Mapping[str, Any], api_routes: set[str]) -> list[str]:
    """Where the services' ports, URLs and secrets disagree; empty when the stack is consistent."""
    services: Mapping[str, Any] = config["services"]
    problems: list[str] = []

    def expect(condition: bool, problem: str) -> None:
        if not condition:
            problems.append(problem)

    api = services["api"]
    api_env = environment(api)
    api_port = int(_option(api["command"], "--port") or 8000)

    def is_api_route(url: str, service: str) -> None:
        host, port = _address(url)
        path = urlsplit(url).path
        expect((host, port) == ("api", api_port), f"{service} calls {url}, not the api service on port {api_port}")
        expect(path in api_routes, f"{service} calls {path}, which is no route of the API")

    # The API, and the migration that must run with the very same settings before it.
    migrate = services["migrate"]
    expect(environment(migrate) == api_env, "migrate runs with other settings than the api")
    expect(migrate["command"] == ["db", "upgrade"], "migrate does not run `meet db upgrade`")
    expect(
        api["depends_on"].get("migrate", {}).get("condition") == "service_completed_successfully",
        "the api does not wait for the migration to complete",
    )

    # PostgreSQL and Redis.
    database = urlsplit(api_env["MEET_DATABASE_URL"])
    postgres_env = environment(services["postgres"])
    expect(database.hostname == "postgres", "MEET_DATABASE_URL is not the postgres service")
    expect(
        (database.username, database.password, database.path.lstrip("/"))
        == (postgres_env["POSTGRES_USER"], postgres_env["POSTGRES_PASSWORD"], postgres_env["POSTGRES_DB"]),
        "MEET_DATABASE_URL's user, password or database differ from the postgres service's",
    )
    expect(_address(api_env["MEET_REDIS_URL"])[0] == "redis", "MEET_REDIS_URL is not the redis service")

    # LiveKit: the API's server calls, its webhooks back to the API, one key pair everywhere.
    livekit = services["livekit"]
    livekit_env = environment(livekit)
    livekit_config = yaml.safe_load(livekit_env["LIVEKIT_CONFIG"])
    key, secret = api_env["MEET_LIVEKIT_API_KEY"], api_env["MEET_LIVEKIT_API_SECRET"]
    expect(
        _address(api_env["MEET_LIVEKIT_URL"]) == ("livekit", livekit_config["port"]),
        f"MEET_LIVEKIT_URL {api_env['MEET_LIVEKIT_URL']} is not the livekit service on port {livekit_config['port']}",
    )
    expect(
        yaml.safe_load(livekit_env["LIVEKIT_KEYS"]) == {key: secret},
        "LiveKit's key pair is not the API's",
    )
    expect(livekit_config["webhook"]["api_key"] == key, "LiveKit signs its webhooks with another key than the API's")
    for url in livekit_config["webhook"]["urls"]:
        is_api_route(url, "LiveKit's webhook")
    expect(
        _address(f"redis://{livekit_config['redis']['address']}")[0] == "redis",
        "LiveKit does not use the redis service (the Egress needs it)",
    )

    # The Egress: LiveKit's key pair and Redis, uploading into the API's bucket on MinIO.
    egress_config = yaml.safe_load(environment(services["egress"])["EGRESS_CONFIG_BODY"])
    expect((egress_config["api_key"], egress_config["api_secret"]) == (key, secret), "the Egress's key pair differs")
    expect(_address(egress_config["ws_url"]) == ("livekit", livekit_config["port"]), "the Egress's LiveKit differs")
    expect(egress_config["redis"]["address"] == livekit_config["redis"]["address"], "the Egress uses another Redis")
    bucket = api_env["MEET_S3_BUCKET"]
    expect(egress_config["s3"]["bucket"] == bucket, "the Egress uploads into another bucket than the API's")
    storage_endpoint = api_env.get("MEET_EGRESS_S3_ENDPOINT_URL") or api_env["MEET_S3_ENDPOINT_URL"]
    expect(_address(storage_endpoint) == ("minio", 9000), "the API does not send the Egress to the minio service")
    expect(_address(egress_config["s3"]["endpoint"]) == ("minio", 9000), "the Egress's storage is not minio")
    expect(
        (egress_config["s3"]["access_key"], egress_config["s3"]["secret"])
        == (api_env["MEET_S3_ACCESS_KEY"], api_env["MEET_S3_SECRET_KEY"]),
        "the Egress's storage credentials differ from the API's",
    )

    # MinIO: the bucket and its user made by minio-setup, its notifications sent to the storage hook.
    expect(_address(api_env["MEET_S3_ENDPOINT_URL"]) == ("minio", 9000), "MEET_S3_ENDPOINT_URL is not minio:9000")
    minio_env = environment(services["minio"])
    setup_env = environment(services["minio-setup"])
    expect(setup_env["MEET_S3_BUCKET"] == bucket, "minio-setup creates another bucket than the API's")
    expect(
        (setup_env["MEET_S3_ACCESS_KEY"], setup_env["MEET_S3_SECRET_KEY"])
        == (api_env["MEET_S3_ACCESS_KEY"], api_env["MEET_S3_SECRET_KEY"]),
        "minio-setup creates another storage user than the API's",
    )
    expect(
        (setup_env["MINIO_ROOT_USER"], setup_env["MINIO_ROOT_PASSWORD"])
        == (minio_env["MINIO_ROOT_USER"], minio_env["MINIO_ROOT_PASSWORD"]),
        "minio-setup's administrator differs from MinIO's",
    )
    targets = {name.removeprefix("MINIO_NOTIFY_WEBHOOK_ENABLE_") for name in minio_env if "WEBHOOK_ENABLE_" in name}
    expect(len(targets) == 1, "MinIO has not exactly one notification target")
    for target in targets:
        is_api_route(minio_env[f"MINIO_NOTIFY_WEBHOOK_ENDPOINT_{target}"], "MinIO's bucket notification")
        expect(
            minio_env.get(f"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_{target}") == api_env["MEET_STORAGE_HOOK_TOKEN"],
            "MinIO's notification token is not MEET_STORAGE_HOOK_TOKEN",
        )
        expect(
            f"arn:minio:sqs::{target}:webhook" in str(services["minio-setup"]["command"]),
            f"minio-setup does not point the bucket's events at the {target} target",
        )

    # nginx: the shipped template, rendered with the API upstream and the API's storage.
    nginx = services["nginx"]
    placeholders = nginx_placeholders(nginx)
    storage = urlsplit(api_env["MEET_S3_ENDPOINT_URL"])
    expect(placeholders.get("API_ADDRESS") == f"api:{api_port}", "nginx's upstream is not the api service")
    expect(placeholders.get("S3_HOST") == storage.netloc, "nginx sends another Host than the one the API signs for")
    expect(placeholders.get("S3_SCHEME") == storage.scheme, "nginx reaches storage with another scheme")
    expect(placeholders.get("S3_BUCKET") == bucket, "nginx serves another bucket than the API's")
    expect(
        any(volume.startswith("./deploy/nginx/meet.conf:") for volume in nginx.get("volumes", [])),
        "nginx does not mount the shipped deploy/nginx/meet.conf",
    )
    return problems


def mutated(config: Mapping[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy: dict[str, Any] = yaml.safe_load(yaml.safe_dump(dict(config)))
    change(copy)
    return copy
