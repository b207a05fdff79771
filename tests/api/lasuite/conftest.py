"""La Suite Meet's surface (``/api/v1.0``) over real PostgreSQL and Redis, called as its frontend calls it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis as RedisClient

from tests.api.conftest import Api

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


async def create_room(api: Api, owner: str, slug: str, username: str = "") -> dict[str, Any]:
    """As the home page does: ``POST rooms/?username=`` with ``{name, callback_id}``."""
    response = await api.request(
        "POST", f"{V1}/rooms/?username={username}", user=owner, json={"name": slug, "callback_id": None}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
