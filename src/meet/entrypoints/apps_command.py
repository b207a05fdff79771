"""``meet apps``: register and manage the applications that obtain tokens acting for users."""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from dishka import AsyncContainer

from meet.adapters.jose.assertions import read_public_key
from meet.domain.applications.model import Application
from meet.domain.applications.use_cases import ManageApplications, NewApplication, RegisterApplication
from meet.domain.shared.errors import DomainError
from meet.domain.users.scopes import ALL_SCOPES, UnknownScope
from meet.entrypoints.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apps = commands.add_parser("apps", help="register and manage applications (OAuth 2.0 clients acting for users)")
    verbs = apps.add_subparsers(dest="apps_command", required=True)
    add = verbs.add_parser("add", help="register an application; prints its client_id (and its secret, once)")
    add.add_argument("name")
    add.add_argument("--scopes", required=True, help=f"comma-separated, among: {', '.join(sorted(ALL_SCOPES))}")
    add.add_argument("--domains", default="", help="email domains of the users it may act for (comma-separated)")
    add.add_argument("--users", default="", help="explicit email addresses it may act for (comma-separated)")
    add.add_argument("--public-key", type=Path, help="a JWK or PEM public key file: the JWT bearer grant, no secret")
    verbs.add_parser("list", help="every registered application")
    for verb, text in (
        ("show", "one application"),
        ("disable", "refuse its token requests and the tokens it holds, at once"),
        ("remove", "delete it; its tokens stop working at once"),
        ("rotate", "a new client secret (printed once), or a new --public-key; its tokens stop working"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("client_id", type=uuid.UUID)
        if verb == "rotate":
            parser.add_argument("--public-key", type=Path)


def describe(application: Application) -> list[str]:
    return [
        f"client_id: {application.client_id}",
        f"name: {application.name}",
        f"status: {'enabled' if application.enabled else 'disabled'}",
        f"scopes: {' '.join(sorted(application.scopes))}",
        f"domains: {', '.join(application.domains) or '-'}",
        f"users: {', '.join(application.emails) or '-'}",
        f"credential: {'public key (JWT bearer grant)' if application.public_key else 'client secret'}",
        f"created: {application.created_at.isoformat() if application.created_at else '-'}",
    ]


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _key(path: Path | None) -> str | None:
    return read_public_key(path.read_text(encoding="utf-8")) if path else None


def _show_secret(output: Callable[[str], None], secret: str | None) -> None:
    if secret:
        output(f"client_secret: {secret}")
        output("(the secret is shown once: store it now, meet keeps only its hash)")


async def _add(container: AsyncContainer, args: argparse.Namespace, output: Callable[[str], None]) -> None:
    registered = await (await container.get(RegisterApplication)).execute(
        NewApplication(
            name=args.name,
            scopes=_split(args.scopes),
            domains=_split(args.domains),
            emails=_split(args.users),
            public_key=_key(args.public_key),
        )
    )
    output(f"client_id: {registered.application.client_id}")
    _show_secret(output, registered.client_secret)


async def _manage(manage: ManageApplications, args: argparse.Namespace, output: Callable[[str], None]) -> None:
    command = args.apps_command
    if command == "list":
        for application in await manage.all():
            state = "enabled" if application.enabled else "disabled"
            scopes = " ".join(sorted(application.scopes))
            output(f"{application.client_id}  {state:8}  {application.name}  [{scopes}]")
    elif command == "show":
        for line in describe(await manage.show(args.client_id)):
            output(line)
    elif command == "disable":
        await manage.disable(args.client_id)
        output(f"disabled: {args.client_id}")
    elif command == "remove":
        await manage.remove(args.client_id)
        output(f"removed: {args.client_id}")
    elif command == "rotate":
        secret = await manage.rotate(args.client_id, _key(args.public_key))
        output(f"client_id: {args.client_id}")
        _show_secret(output, secret)
        if not secret:
            output("public key replaced")


async def run_apps(settings: Settings, args: argparse.Namespace, output: Callable[[str], None] = print) -> int:
    # Imported here, not with the parser: the composition root imports libraries that warn at import,
    # and `meet serve` builds the same parser before logging is set up.
    from meet.entrypoints.providers import make_container  # noqa: PLC0415

    container = make_container(settings)
    try:
        if args.apps_command == "add":
            await _add(container, args, output)
        else:
            await _manage(await container.get(ManageApplications), args, output)
    except (ValueError, UnknownScope, OSError) as error:
        print(f"meet apps: {error}", file=sys.stderr)
        return 2
    except DomainError as error:
        print(f"meet apps: {error.message}", file=sys.stderr)
        return 1
    finally:
        await container.close()
    return 0
