"""The ``meet`` command: ``serve``, ``db upgrade``, ``check``, ``token``, ``apps``, ``audit`` and ``webhooks``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from meet.adapters.prometheus.metrics import MULTIPROCESS_DIR
from meet.adapters.sqlalchemy.database import create_engine
from meet.adapters.sqlalchemy.migrate import upgrade
from meet.domain.rooms.model import Role
from meet.entrypoints.http.paths import API_PREFIX
from meet.entrypoints.logs import configure_logging, logging_config
from meet.entrypoints.settings import Profile, Settings, SettingsError, load_settings

logger = logging.getLogger("meet")


def migrate(settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(settings.database, pgbouncer=settings.database_pgbouncer)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def migrate_embedded(settings: Settings) -> None:
    """The embedded default (and development) migrates by itself; production runs ``meet db upgrade``."""
    if settings.profile is Profile.DEVELOPMENT or not settings.database_url:
        migrate(settings)


def share_metrics_between_workers() -> None:
    """Point prometheus-client's multiprocess mode at an empty folder before the workers start."""
    folder = os.environ.get(MULTIPROCESS_DIR)
    if folder:
        for stale in Path(folder).glob("*.db"):  # a previous run's figures, not this one's
            stale.unlink()
    else:
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="meet-metrics-")


def serve(settings: Settings, host: str, port: int, workers: int, forwarded_allow_ips: str) -> None:
    import uvicorn  # noqa: PLC0415 - only the serve command needs the server

    from meet.entrypoints.server_protocol import HTTP_PROTOCOL  # noqa: PLC0415 - the server's, as above

    migrate_embedded(settings)
    if workers > 1:
        share_metrics_between_workers()
    display_host = "localhost" if host in {"127.0.0.1", "0.0.0.0"} else host  # noqa: S104
    base = settings.public_url.rstrip("/") or f"http://{display_host}:{port}"
    announce = logger.info if settings.log_json else print
    announce(f"meet ({settings.profile.value}) on {base}")
    announce(f"API docs: {base}{API_PREFIX}/docs")
    sys.stdout.flush()
    uvicorn.run(
        "meet.entrypoints.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config(settings),
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        http=HTTP_PROTOCOL,  # one write per answer, not two
        server_header=False,  # no "server: uvicorn" on every answer: it tells an attacker what runs here
        # In production the reverse proxy in front logs every request; a second access log here costs
        # CPU on every request (the benchmark runs without it too) and says nothing new.
        access_log=settings.profile is Profile.DEVELOPMENT,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meet", description="meet: LiveKit conferencing backend")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser("serve", help="serve the API")
    serve_cmd.add_argument("--host", default="127.0.0.1")
    serve_cmd.add_argument("--port", type=int, default=8000)
    serve_cmd.add_argument("--workers", type=int, default=1)
    serve_cmd.add_argument(
        "--forwarded-allow-ips",
        default=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        help="proxies whose X-Forwarded-For/-Proto are trusted (comma-separated, or *); default 127.0.0.1",
    )
    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration")
    commands.add_parser("check", help="validate the settings and reach every configured backing service")
    token = commands.add_parser("token", help="print the token the grant policy issues, and its grants")
    token.add_argument("--room", required=True, help="the room's slug")
    token.add_argument("--identity", required=True, help="the participant's identity (a user's sub)")
    token.add_argument("--role", choices=[role.value for role in Role], help="the participant's role in the room")
    token.add_argument("--name", help="the display name")
    from meet.entrypoints.apps_command import add_parser  # noqa: PLC0415 - keeps `meet serve`'s imports lean

    add_parser(commands)
    audit = commands.add_parser("audit", help="the rooms' audit logs")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check every room's hash chain (or one room's)")
    verify.add_argument("--room", type=uuid.UUID, help="the room's id")
    audit_commands.add_parser("trim", help="delete entries older than MEET_AUDIT_RETENTION_DAYS")
    hooks = commands.add_parser("webhooks", help="outbound webhook endpoints")
    hook_commands = hooks.add_subparsers(dest="webhooks_command", required=True)
    add = hook_commands.add_parser("add", help="register an endpoint; prints its id and its secret, once")
    add.add_argument("url")
    add.add_argument("--events", required=True, help="comma-separated event types, e.g. lobby.admitted,room.started")
    hook_commands.add_parser("list", help="every endpoint, its events and its state")
    for name, text in (("remove", "remove an endpoint"), ("rotate", "give an endpoint a new secret")):
        hook_commands.add_parser(name, help=text).add_argument("id", type=uuid.UUID)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"meet: invalid configuration: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    if args.command == "db":
        migrate(settings)
        print("database is up to date", flush=True)
        return 0
    # Imported once logging is set up, so that what they log at import (warnings) is formatted too.
    if args.command == "check":
        from meet.entrypoints.check import check_deployment  # noqa: PLC0415

        return asyncio.run(check_deployment(settings))
    if args.command == "apps":
        from meet.entrypoints.apps_command import run_apps  # noqa: PLC0415

        migrate_embedded(settings)
        return asyncio.run(run_apps(settings, args))
    if args.command == "token":
        from meet.entrypoints.token_command import print_token  # noqa: PLC0415

        migrate_embedded(settings)
        role = Role(args.role) if args.role else None
        return asyncio.run(print_token(settings, room=args.room, identity=args.identity, role=role, name=args.name))
    if (problem := settings.frontend_problem) is not None:
        print(f"meet: invalid configuration: {problem}", file=sys.stderr)
        return 2
    if args.command == "audit":
        from meet.entrypoints.audit_command import trim_audit, verify_audit  # noqa: PLC0415

        migrate_embedded(settings)
        if args.audit_command == "verify":
            return asyncio.run(verify_audit(settings, args.room))
        return asyncio.run(trim_audit(settings))
    if args.command == "webhooks":
        from meet.entrypoints.webhooks_command import webhooks_command  # noqa: PLC0415

        migrate_embedded(settings)
        return asyncio.run(
            webhooks_command(
                settings,
                args.webhooks_command,
                url=getattr(args, "url", None),
                events=[name.strip() for name in getattr(args, "events", "").split(",") if name.strip()],
                endpoint_id=getattr(args, "id", None),
            )
        )
    serve(settings, args.host, args.port, args.workers, args.forwarded_allow_ips)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
