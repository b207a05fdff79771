"""The ``meet`` command: ``meet serve`` and ``meet db upgrade``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from meet.adapters.sqlalchemy.database import create_engine
from meet.adapters.sqlalchemy.migrate import upgrade
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


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn  # noqa: PLC0415 - only the serve command needs the server

    if settings.profile is Profile.DEVELOPMENT or not settings.database_url:
        migrate(settings)
    display_host = "localhost" if host in {"127.0.0.1", "0.0.0.0"} else host  # noqa: S104
    print(f"meet ({settings.profile.value}) on http://{display_host}:{port}", flush=True)
    print(f"API docs: http://{display_host}:{port}/api/v1/docs", flush=True)
    uvicorn.run(
        "meet.entrypoints.asgi:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
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
    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply every pending migration")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"meet: invalid configuration: {error}", file=sys.stderr)
        return 2
    if args.command == "db":
        migrate(settings)
        print("database is up to date", flush=True)
        return 0
    serve(settings, args.host, args.port, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
