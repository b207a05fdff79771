"""``meet check`` and ``meet token``, run as an operator runs them: the installed command, real services."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from livekit.api import TokenVerifier

from tests.api.conftest import running_api
from tests.api.conftest import test_settings as settings_for
from tests.support.livekit_server import LiveKitServer
from tests.support.served import MEET, clean_env
from tests.support.services import S3, OidcProvider, Redis, SmtpServer

API_KEY = "meet-operator"
API_SECRET = "operator-secret-" + "k" * 24


def meet(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(**{f"MEET_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run([MEET, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=90, check=False)


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {line.partition(": ")[0]: line.partition(": ")[2] for line in result.stdout.splitlines()}


async def test_check_reaches_every_configured_service_and_names_the_one_that_is_down(
    tmp_path: Path,
    fresh_postgres_database: str,
    disposable_redis: Redis,
    s3_service: S3,
    smtp_server: SmtpServer,
    oidc_provider: OidcProvider,
    livekit: LiveKitServer,
) -> None:
    bucket = f"check-{uuid.uuid4().hex[:8]}"
    s3_service.create_bucket(bucket)
    settings = {
        "database_url": fresh_postgres_database,
        "redis_url": disposable_redis.url,
        "s3_endpoint_url": s3_service.endpoint_url,
        "s3_bucket": bucket,
        "s3_access_key": s3_service.access_key,
        "s3_secret_key": s3_service.secret_key,
        "livekit_url": livekit.url,
        "smtp_host": smtp_server.host,
        "smtp_port": str(smtp_server.port),
        "oidc_issuer": oidc_provider.issuer,
        "oidc_client_id": oidc_provider.client_id,
        "oidc_client_secret": oidc_provider.client_secret,
    }
    not_migrated = meet(tmp_path, "check", **settings)
    assert not_migrated.returncode == 1
    assert lines(not_migrated)["database"] == "ok"
    assert "meet db upgrade" in lines(not_migrated)["migrations"]
    assert lines(not_migrated)["meet check"] == "migrations failed"

    assert meet(tmp_path, "db", "upgrade", **settings).returncode == 0
    passing = meet(tmp_path, "check", **settings)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    report = lines(passing)
    assert report["settings"] == "ok (development profile)"
    for service in ("database", "migrations", "redis", "storage", "livekit", "smtp", "oidc"):
        assert report[service] == "ok", passing.stdout

    disposable_redis.stop()
    failing = meet(tmp_path, "check", **settings)
    assert failing.returncode == 1
    report = lines(failing)
    assert report["redis"].startswith("FAILED (")
    assert report["database"] == "ok"
    assert report["meet check"] == "redis failed"


async def test_check_refuses_invalid_settings_naming_them(tmp_path: Path) -> None:
    result = meet(tmp_path, "check", smtp_port="seventy")
    assert result.returncode == 2
    assert "MEET_SMTP_PORT" in result.stderr


def test_token_prints_what_the_grant_policy_issues_and_livekit_accepts_it(tmp_path: Path) -> None:
    result = meet(
        tmp_path,
        "token",
        "--room",
        "Town Hall",
        "--identity",
        "alice-sub",
        "--role",
        "member",
        "--name",
        "Alice",
        livekit_api_key=API_KEY,
        livekit_api_secret=API_SECRET,
    )
    assert result.returncode == 0, result.stderr
    report = lines(result)
    assert report["room"] == "town-hall (temporary)"
    claims = TokenVerifier(API_KEY, API_SECRET).verify(report["token"])
    video = claims.video
    assert video is not None
    assert claims.identity == "alice-sub"
    assert claims.name == "Alice"
    assert video.room == "town-hall"
    assert video.room_join
    assert not video.room_admin
    assert not video.room_create
    assert not video.room_record
    assert claims.attributes is not None
    assert claims.attributes["room_role"] == "member"
    assert claims.attributes["is_authenticated"] == "true"
    # The decoded grants printed are the token's own.
    printed = json.loads(result.stdout[result.stdout.index("{") :])
    assert printed["video"]["roomAdmin"] is False
    assert printed["sub"] == "alice-sub"


def test_token_for_an_owner_grants_room_admin(tmp_path: Path) -> None:
    result = meet(
        tmp_path, "token", "--room", "board", "--identity", "o", "--role", "owner",
        livekit_api_key=API_KEY, livekit_api_secret=API_SECRET,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    video = TokenVerifier(API_KEY, API_SECRET).verify(lines(result)["token"]).video
    assert video is not None
    assert video.room_admin
    assert set(video.can_publish_sources or ()) == {"camera", "microphone", "screen_share", "screen_share_audio"}


async def test_token_for_a_registered_room_follows_its_configuration(tmp_path: Path) -> None:
    async with running_api(settings_for(tmp_path)) as api:
        await api.sign_in("owner-sub")
        room = await api.create_room("owner-sub", "Listen Only", configuration={"can_publish_sources": []})
    result = meet(
        tmp_path, "token", "--room", "listen-only", "--identity", "guest", "--role", "member",
        data_dir=str(tmp_path), livekit_api_key=API_KEY, livekit_api_secret=API_SECRET,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert lines(result)["room"] == room["id"]  # a registered room's SFU room is named by its id
    video = TokenVerifier(API_KEY, API_SECRET).verify(lines(result)["token"]).video
    assert video is not None
    assert video.can_publish is False
    assert not video.room_admin
