"""La Suite Meet's surface (``/api/v1.0``) over real PostgreSQL and Redis, called as its frontend calls it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis as RedisClient

from tests.api.conftest import Api
from tests.support.served import Served, serve
from tests.support.services import ServiceNotFound

V1 = "/api/v1.0"


@pytest.fixture
async def lasuite(api_with: Any, fresh_postgres_database: str, redis_url: str) -> AsyncIterator[Api]:
    client = RedisClient.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    async with api_with(
        lasuite_api="true",
        database_url=fresh_postgres_database,
        redis_url=redis_url,
        lasuite_poll_hold_seconds="20",
    ) as api:
        yield api


@pytest.fixture(scope="module")
def served_lasuite(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str) -> Iterator[Served]:
    """``meet serve`` with the surface on, over the shared PostgreSQL and Redis (tests use rooms of their own)."""
    tmp_path = tmp_path_factory.mktemp("lasuite")
    settings: dict[str, Any] = {
        "lasuite_api": "true",
        "database_url": postgres_url,
        "redis_url": redis_url,
        "data_dir": str(tmp_path / "var"),
        "lasuite_poll_hold_seconds": "20",
    }
    try:
        with serve(tmp_path, log=tmp_path / "meet.log", **settings) as served:
            yield served
    except ServiceNotFound as error:
        pytest.fail(str(error))


@pytest.fixture
async def http(served_lasuite: Served) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served_lasuite.base_url, timeout=60) as client:
        yield client


async def create_room(api: Api, owner: str, slug: str, username: str = "") -> dict[str, Any]:
    """As the home page does: ``POST rooms/?username=`` with ``{name, callback_id}``."""
    response = await api.request(
        "POST", f"{V1}/rooms/?username={username}", user=owner, json={"name": slug, "callback_id": None}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
