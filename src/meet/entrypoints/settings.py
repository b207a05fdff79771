"""Settings from ``MEET_*`` environment variables (and an optional ``.env``), validated at start-up."""

from __future__ import annotations

import enum
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec

PREFIX = "MEET_"
DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development


class Profile(enum.StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class SettingsError(ValueError):
    """A setting is missing, malformed, or forbidden in this profile."""


Seconds = Annotated[int, msgspec.Meta(ge=1)]


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    profile: Profile = Profile.DEVELOPMENT
    data_dir: str = "var"
    database_url: str = ""
    database_pool_size: Annotated[int, msgspec.Meta(ge=1)] = 10
    database_pgbouncer: bool = False
    redis_url: str = ""
    redis_cluster: bool = False
    secret_key: str = DEVELOPMENT_SECRET
    public_url: str = ""
    frontend_url: str = "/"
    # A built single-page app (La Suite Meet's frontend, its dist/) served on ``/`` beside the API.
    frontend_dir: str = ""
    # Origins (``https://host[:port]``, comma-separated) besides the public URL's whose pages may send
    # cookie-authenticated unsafe requests; CORS origins are trusted too.
    trusted_origins: str = ""
    cors_origins: str = ""

    livekit_url: str = "ws://localhost:7880"
    livekit_public_url: str = ""
    livekit_api_key: str = "devkey"
    livekit_api_secret: str = "secret"  # noqa: S105 - LiveKit's documented dev secret
    livekit_verify_tls: bool = True
    livekit_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    token_ttl_seconds: Seconds = 600

    sfu: Literal["livekit", "janus"] = "livekit"
    janus_url: str = ""
    janus_public_url: str = ""
    janus_admin_url: str = ""
    janus_admin_secret: str = ""
    janus_admin_key: str = ""
    janus_token_secret: str = ""
    janus_events_user: str = "janus"
    janus_events_password: str = ""
    janus_verify_tls: bool = True
    janus_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    janus_empty_timeout_seconds: Annotated[float, msgspec.Meta(ge=0)] = 30.0

    allow_temporary_rooms: bool = True

    lobby_waiting_timeout_seconds: Seconds = 30
    lobby_accepted_ttl_seconds: Seconds = 600
    lobby_denied_ttl_seconds: Seconds = 300
    lobby_knocks_per_minute: Seconds = 120
    lobby_new_participants_per_minute_per_address: Seconds = 600
    lobby_notify_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=10)] = 1.0
    lobby_keepalive_seconds: Annotated[float, msgspec.Meta(gt=0)] = 25.0
    # Repeated knocking: this many denials of one participant or client address in a room within the window
    # block its knocks for the block's duration (403 lobby_blocked), durably.
    lobby_denials_before_block: Annotated[int, msgspec.Meta(ge=1)] = 3
    lobby_denial_window_seconds: Seconds = 600
    lobby_block_seconds: Seconds = 3600
    lobby_messages_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 10

    removal_seconds: Seconds = 600
    room_max_participants: Annotated[int, msgspec.Meta(ge=0)] = 0  # 0: no limit
    room_end_grace_seconds: Seconds = 60
    allow_display_name_changes: bool = True

    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_scopes: str = "openid email profile"
    dev_login: bool | None = None
    # Resource server: accept the OIDC issuer's access tokens (JWT checked against its JWKS, or opaque
    # through its introspection endpoint with the OIDC client's credentials).
    oidc_resource_server: bool = False
    oidc_audience: str = ""
    oidc_introspection: bool = False

    # Applications (``meet apps``): their access tokens' lifetime, the token endpoint's rate per
    # application, and whether a user unknown to meet is created when an application names them.
    application_token_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 300
    application_token_requests_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 60
    application_allow_user_creation: bool = False

    session_ttl_seconds: Seconds = 43200
    # How long a sign-in in progress (the browser is at the identity provider) is remembered.
    sign_in_ttl_seconds: Annotated[int, msgspec.Meta(ge=30, le=3600)] = 600
    cookie_secure: bool = True

    recordings_enabled: bool = True
    recording_expiry_days: Annotated[int, msgspec.Meta(ge=0)] = 0
    s3_endpoint_url: str = ""
    s3_bucket: str = "meet-media-storage"
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_timeout_seconds: Annotated[float, msgspec.Meta(gt=0)] = 5.0
    egress_s3_endpoint_url: str = ""
    storage_hook_token: str = ""
    smtp_host: str = ""
    smtp_port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "meet@localhost"
    smtp_tls: Literal["none", "starttls", "tls"] = "none"

    # La Suite Meet's API (``/api/v1.0``), for its unmodified frontend (docs/lasuite-api.md).
    lasuite_api: bool = False
    lasuite_poll_hold_seconds: Annotated[float, msgspec.Meta(ge=0, le=55)] = 20.0
    lasuite_silent_login: bool = False

    # How often each process moves the lobby's decisions from the store into the audit log, and how long
    # a record one process took and did not store waits before another takes it (that process died).
    lobby_records_poll_seconds: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    lobby_records_stale_seconds: Seconds = 30
    # Audit entries older than this many days are trimmed (each room's chain stays verifiable); 0 keeps all.
    audit_retention_days: Annotated[int, msgspec.Meta(ge=0)] = 0
    # CIDRs a webhook endpoint may resolve to although they are loopback, private or link-local
    # (comma-separated); only endpoints there may use plain http.
    webhook_allowed_networks: str = ""
    # Key that encrypts the endpoints' signing secrets at rest; derived from MEET_SECRET_KEY when empty.
    webhook_encryption_key: str = ""
    webhook_timeout_seconds: Annotated[float, msgspec.Meta(gt=0, le=30)] = 5.0
    webhook_poll_seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 1.0
    webhook_batch_size: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 50
    # How long a rotated-out secret keeps signing beside the new one.
    webhook_rotation_overlap_hours: Annotated[int, msgspec.Meta(ge=0)] = 24

    log_format: Literal["", "json", "text"] = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    metrics_token: str = ""

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'meet.sqlite3'}"

    @property
    def dev_login_enabled(self) -> bool:
        """The development sign-in: on by default in development, never in production."""
        if self.dev_login is None:
            return self.profile is Profile.DEVELOPMENT
        return self.dev_login and self.profile is Profile.DEVELOPMENT

    @property
    def livekit_browser_url(self) -> str:
        """The LiveKit URL browsers are told (the API may reach LiveKit under another, internal, name)."""
        return self.livekit_public_url or self.livekit_url

    @property
    def log_json(self) -> bool:
        """One JSON object per log line: the default in production, plain text in development."""
        if self.log_format:
            return self.log_format == "json"
        return self.profile is Profile.PRODUCTION

    @property
    def trusted_origin_list(self) -> list[str]:
        return [*_split(self.trusted_origins), *self.cors_origin_list]

    @property
    def cors_origin_list(self) -> list[str]:
        return _split(self.cors_origins)

    @property
    def token_issuer(self) -> str:
        """The ``iss`` of the access tokens meet issues to applications."""
        return self.public_url.rstrip("/") or "meet"

    @property
    def webhook_allowed_network_list(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        return [ipaddress.ip_network(item, strict=False) for item in _split(self.webhook_allowed_networks)]

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def janus_client_url(self) -> str:
        """What browsers are told: ``MEET_JANUS_PUBLIC_URL``, else the server-side REST endpoint."""
        return self.janus_public_url or self.janus_url

    def _janus_problems(self) -> list[str]:
        if self.sfu != "janus":
            return []
        required = {
            "MEET_JANUS_URL": self.janus_url,
            "MEET_JANUS_ADMIN_URL": self.janus_admin_url,
            "MEET_JANUS_ADMIN_SECRET": self.janus_admin_secret,
            "MEET_JANUS_ADMIN_KEY": self.janus_admin_key,
            "MEET_JANUS_TOKEN_SECRET": self.janus_token_secret,
            "MEET_JANUS_EVENTS_PASSWORD": self.janus_events_password,
        }
        problems = [f"{name} is required with MEET_SFU=janus." for name, value in required.items() if not value]
        for name, url in (("MEET_JANUS_URL", self.janus_url), ("MEET_JANUS_PUBLIC_URL", self.janus_public_url),
                          ("MEET_JANUS_ADMIN_URL", self.janus_admin_url)):  # fmt: skip
            if url and not url.startswith(("http://", "https://")):
                problems.append(f"{name} must be an http:// or https:// URL.")
        if self.frontend_dir:
            problems.append("MEET_FRONTEND_DIR serves La Suite Meet's frontend, which speaks LiveKit only, not Janus.")
        return problems

    def _oidc_problems(self) -> list[str]:
        problems = []
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            problems.append("MEET_OIDC_CLIENT_ID and MEET_OIDC_CLIENT_SECRET are required with MEET_OIDC_ISSUER.")
        if self.oidc_resource_server and not self.oidc_issuer:
            problems.append("MEET_OIDC_RESOURCE_SERVER needs MEET_OIDC_ISSUER (and the OIDC client's credentials).")
        if self.oidc_resource_server and not self.oidc_introspection and not self.oidc_audience:
            problems.append("MEET_OIDC_AUDIENCE is required to accept the provider's JWT access tokens.")
        return problems

    def _webhook_problems(self) -> list[str]:
        problems = []
        for network in _split(self.webhook_allowed_networks):
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                problems.append(f"MEET_WEBHOOK_ALLOWED_NETWORKS: {network!r} is not a CIDR (e.g. 10.0.0.0/8).")
        return problems

    @property
    def frontend_problem(self) -> str | None:
        """What is wrong with ``MEET_FRONTEND_DIR`` on this machine (``meet serve`` refuses to start on it).

        Not part of ``check()``: only the serving process needs the build (``meet db upgrade`` runs
        with the same settings where the folder may not exist)."""
        if not self.frontend_dir:
            return None
        path = Path(self.frontend_dir)
        if not path.is_dir():
            return f"MEET_FRONTEND_DIR={self.frontend_dir!r} is not a folder (a built frontend, e.g. its dist/)."
        if not (path / "index.html").is_file():
            return f"MEET_FRONTEND_DIR={self.frontend_dir!r} has no index.html (point it at a built frontend)."
        return None

    def check(self) -> Settings:
        """Refuse combinations that are unsafe or cannot work."""
        problems: list[str] = []
        if self.profile is Profile.PRODUCTION:
            if self.dev_login:
                problems.append("MEET_DEV_LOGIN is only allowed in the development profile.")
            if self.secret_key == DEVELOPMENT_SECRET or len(self.secret_key) < 32:
                problems.append("MEET_SECRET_KEY must be set to a random value of at least 32 characters.")
            if self.sfu == "livekit" and (self.livekit_api_key, self.livekit_api_secret) == ("devkey", "secret"):
                problems.append("MEET_LIVEKIT_API_KEY/SECRET must not be LiveKit's development pair.")
            if not self.public_url:
                problems.append(
                    "MEET_PUBLIC_URL must be set (the service's own origin, e.g. https://meet.example.org)."
                )
            if self.recordings_enabled and self.s3_endpoint_url and not self.storage_hook_token:
                problems.append("MEET_STORAGE_HOOK_TOKEN must be set when recordings are stored in S3.")
        if self.redis_cluster and not self.redis_url:
            problems.append("MEET_REDIS_CLUSTER needs MEET_REDIS_URL (any node of the cluster).")
        if self.database_pgbouncer and not self.database.startswith("postgresql"):
            problems.append("MEET_DATABASE_PGBOUNCER needs a PostgreSQL MEET_DATABASE_URL (PgBouncer's address).")
        problems.extend(self._janus_problems())
        problems.extend(self._webhook_problems())
        for name, value in (
            ("MEET_PUBLIC_URL", self.public_url),
            *((f"origin {o!r}", o) for o in self.trusted_origin_list),
        ):
            if value and not _is_origin_url(value):
                problems.append(f"{name} must be an http(s) URL with a host.")
        problems.extend(self._oidc_problems())
        if problems:
            raise SettingsError(" ".join(problems))
        return self


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _is_origin_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def load_settings(environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
    """Read ``MEET_*`` variables (the environment wins over ``.env``) and validate them."""
    merged: dict[str, str] = _read_dotenv(dotenv) if dotenv else {}
    merged.update(os.environ if environ is None else environ)
    known = {field.lower() for field in Settings.__struct_fields__}
    values: dict[str, Any] = {}
    for key, value in merged.items():
        if not key.startswith(PREFIX) or key.startswith(f"{PREFIX}TEST_"):
            continue
        name = key[len(PREFIX) :].lower()
        if name not in known:
            raise SettingsError(f"Unknown setting {key}.")
        values[name] = value.upper() if name == "log_level" else value
    try:
        settings = msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(error)) from error
    return settings.check()


def _explain(error: msgspec.ValidationError) -> str:
    message = str(error)
    head, _, path = message.rpartition(" - at `$.")
    if path:
        return f"{PREFIX}{path.rstrip('`').upper()}: {head}"
    return message
