"""Bearer against cookie: what a request with an application's token costs next to one with a session.

Part of ``make bench`` (scenario 9), and runnable alone on a single API worker:

    uv run python -m bench.bearer --seconds 5

The member's join (cookie: the room and its SFU connection; bearer: the room, which never carries a
connection) and the room list (``GET /api/v1/rooms``), each with a session cookie and with a token
minted as the token endpoint would; the ratio is bearer req/s over cookie req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.seed import Seeded, create_sessions, seed_database
from bench.services import api_server, livekit_stub, start_local_postgres, start_local_redis
from bench.wrk import Load, Result, measure
from meet.adapters.jose.access_tokens import TOKEN_AUDIENCE, JoseAccessTokens
from meet.domain.applications.ports import TokenGrant
from meet.domain.users.scopes import ALL_SCOPES


def bearer_for(env: dict[str, str], seeded: Seeded, sub: str) -> dict[str, str]:
    """A token for ``sub`` with every scope, signed with the server's key, as its token endpoint signs."""
    tokens = JoseAccessTokens(
        env["MEET_SECRET_KEY"], issuer=env["MEET_PUBLIC_URL"].rstrip("/") or "meet", audience=TOKEN_AUDIENCE
    )
    user, now = seeded.users[sub], datetime.now(UTC)
    grant = TokenGrant(
        user_id=user.id,
        sub=user.sub,
        full_name=user.full_name,
        client_id="00000000-0000-4000-8000-000000000000",
        scopes=ALL_SCOPES,
        expires_at=now + timedelta(hours=1),
    )
    return {"Authorization": f"Bearer {tokens.issue(grant, issued_at=now)}"}


def bearer_scenarios(base: str, env: dict[str, str], seeded: Seeded, seconds: int) -> list[Result]:
    cookie = {"Cookie": f"meet_session={seeded.sessions['bench-member']}"}
    bearer = bearer_for(env, seeded, "bench-member")
    room = f"/api/v1/rooms/{seeded.rooms['restricted'].id}"
    return [
        measure(base, "9. member join, cookie", Load(room, headers=cookie), seconds=seconds),
        measure(base, "9. member opens the room, bearer (no connection)", Load(room, headers=bearer), seconds=seconds),
        measure(base, "9. room list, cookie", Load("/api/v1/rooms", headers=cookie), seconds=seconds),
        measure(base, "9. room list, bearer", Load("/api/v1/rooms", headers=bearer), seconds=seconds),
    ]


def ratios(results: list[Result]) -> list[str]:
    lines = []
    for cookie, bearer in zip(results[::2], results[1::2], strict=True):
        ratio = bearer.rps / cookie.rps if cookie.rps else 0.0
        lines.append(
            f"{bearer.name}: {bearer.rps:,.0f} req/s against {cookie.rps:,.0f} with a cookie (ratio {ratio:.2f})"
        )
    return lines


def main() -> int:
    from bench.run import production_env  # noqa: PLC0415 - the one production environment of the bench

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="meet-bench-bearer-")))
        postgres = stack.enter_context(start_local_postgres())
        redis = stack.enter_context(start_local_redis())
        env = production_env(postgres.url(), redis.url, stack.enter_context(livekit_stub(workdir)))
        from bench.run import migrate  # noqa: PLC0415

        migrate(env)
        seeded = asyncio.run(seed_database(postgres.url()))
        asyncio.run(create_sessions(redis.url, seeded))
        with api_server(env, args.workers, workdir) as api:
            results = bearer_scenarios(api.base, env, seeded, args.seconds)
    for result in results:
        print(f"{result.name}: {result.rps:,.0f} req/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
              f"non-2xx {result.non_2xx}")  # fmt: skip
    for line in ratios(results):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
