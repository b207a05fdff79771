from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from meet.adapters.sqlalchemy.database import create_engine
from meet.adapters.sqlalchemy.migrate import upgrade
from meet.entrypoints.http.app import SESSION_COOKIE, build_app
from meet.entrypoints.settings import Settings, load_settings

BASE_URL = "https://testserver.local"


@dataclass
class Api:
    """One app, one client; each signed-in user keeps their own session cookie."""

    client: AsyncTestClient[Litestar]
    settings: Settings
    sessions: dict[str, str] = field(default_factory=dict)

    async def sign_in(self, sub: str, *, email: str | None = None, full_name: str | None = None) -> dict[str, Any]:
        self.client.cookies.clear()
        response = await self.client.post(
            "/api/v1/auth/dev-login", json={"sub": sub, "email": email, "full_name": full_name or sub.title()}
        )
        assert response.status_code == 200, response.text
        self.sessions[sub] = response.cookies[SESSION_COOKIE]
        self.client.cookies.clear()
        return dict(response.json())

    def as_(self, sub: str | None) -> dict[str, str]:
        return {"Cookie": f"{SESSION_COOKIE}={self.sessions[sub]}"} if sub else {}

    async def request(self, method: str, url: str, *, user: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.as_(user), **kwargs.pop("headers", {})}
        try:
            return await self.client.request(method, url, headers=headers, **kwargs)
        finally:
            # Sessions travel only in the explicit header: never let one user's cookie stick to the client.
            self.client.cookies.clear()

    async def create_room(self, owner: str, name: str, **body: Any) -> dict[str, Any]:
        response = await self.request("POST", "/api/v1/rooms", user=owner, json={"name": name, **body})
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def grant(self, owner: str, room_id: str, sub: str, role: str) -> dict[str, Any]:
        user = await self.sign_in(sub)
        response = await self.request(
            "POST", f"/api/v1/rooms/{room_id}/accesses", user=owner, json={"user_id": user["id"], "role": role}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


def test_settings(tmp_path: Path, **overrides: str) -> Settings:
    env = {"MEET_DATA_DIR": str(tmp_path), **{f"MEET_{k.upper()}": v for k, v in overrides.items()}}
    return load_settings(env, dotenv=None)


@asynccontextmanager
async def running_api(settings: Settings, *providers: Any) -> AsyncIterator[Api]:
    engine = create_engine(settings.database, pgbouncer=settings.database_pgbouncer)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = build_app(settings, *providers)
    async with AsyncTestClient(app, base_url=BASE_URL) as client:
        yield Api(client=client, settings=settings)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(test_settings(tmp_path)) as running:
        yield running


@pytest.fixture
def api_with(tmp_path: Path) -> Callable[..., Any]:
    """``async with api_with(allow_temporary_rooms="false") as api:`` for non-default settings."""

    def build(*providers: Any, **overrides: str) -> Any:
        return running_api(test_settings(tmp_path, **overrides), *providers)

    return build
