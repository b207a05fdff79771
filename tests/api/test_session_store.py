"""Sessions are stored only when there is something to store: made-up cookies cost Redis nothing."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from redis.asyncio import Redis as RedisClient

from meet.entrypoints.http.app import SESSION_COOKIE
from meet.entrypoints.settings import SettingsError, load_settings
from tests.support.services import Redis


def cleared(response: Any) -> bool:
    return any(
        cookie.startswith(f"{SESSION_COOKIE}=null;") and "expires=" in cookie.lower()
        for cookie in response.headers.get_list("set-cookie")
    )


async def test_made_up_session_cookies_add_no_key_to_redis(api_with: Any, disposable_redis: Redis) -> None:
    redis = RedisClient.from_url(disposable_redis.url)
    async with api_with(redis_url=disposable_redis.url) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        await api.request("GET", f"/api/v1/rooms/{room['slug']}")  # the room's stamp, taken by its first join
        before = await redis.dbsize()
        assert before >= 2  # the owner's session, the room's stamp
        for index in range(300):
            made_up = {"Cookie": f"{SESSION_COOKIE}={secrets.token_hex(2048)}"}  # 4 KB
            path, method = [
                (f"/api/v1/rooms/{room['slug']}", "GET"),
                ("/api/v1/users/me", "GET"),
                ("/api/v1/rooms", "POST"),
            ][index % 3]
            response = await api.request(method, path, headers=made_up, json={} if method == "POST" else None)
            assert response.status_code in {200, 401, 422}, response.text
            assert cleared(response), response.headers
        assert await redis.dbsize() == before
        # The real session is untouched.
        assert (await api.request("GET", "/api/v1/users/me", user="owner")).status_code == 200
    await redis.aclose()


async def test_an_expired_session_cookie_is_cleared_and_not_written_again(
    api_with: Any, disposable_redis: Redis
) -> None:
    redis = RedisClient.from_url(disposable_redis.url)
    async with api_with(redis_url=disposable_redis.url) as api:
        await api.sign_in("owner")
        await redis.flushdb()  # the session expired
        response = await api.request("GET", "/api/v1/users/me", user="owner")
        assert response.status_code == 401
        assert cleared(response)
        assert await redis.dbsize() == 0
    await redis.aclose()


async def test_signing_out_deletes_the_stored_session(api_with: Any, disposable_redis: Redis) -> None:
    redis = RedisClient.from_url(disposable_redis.url)
    async with api_with(redis_url=disposable_redis.url) as api:
        await api.sign_in("owner")
        assert await redis.dbsize() == 1
        response = await api.request("POST", "/api/v1/auth/logout", user="owner")
        assert response.status_code == 204
        assert cleared(response)
        assert await redis.dbsize() == 0
    await redis.aclose()


PRODUCTION = {
    "MEET_PROFILE": "production",
    "MEET_SECRET_KEY": "s" * 40,
    "MEET_LIVEKIT_API_KEY": "key",
    "MEET_LIVEKIT_API_SECRET": "x" * 40,
}


def test_production_refuses_to_start_without_its_public_url() -> None:
    with pytest.raises(SettingsError, match="MEET_PUBLIC_URL"):
        load_settings(PRODUCTION, dotenv=None)
    with pytest.raises(SettingsError, match="MEET_PUBLIC_URL"):
        load_settings({**PRODUCTION, "MEET_PUBLIC_URL": "meet.example.org"}, dotenv=None)
    with pytest.raises(SettingsError, match="origin"):
        load_settings({**PRODUCTION, "MEET_PUBLIC_URL": "https://a.org", "MEET_TRUSTED_ORIGINS": "b.org"}, dotenv=None)
    assert load_settings({**PRODUCTION, "MEET_PUBLIC_URL": "https://meet.example.org"}, dotenv=None).public_url
