"""A sign-in in progress is stored under an id the server draws, for minutes: never under a cookie's id."""

from __future__ import annotations

import secrets
from typing import Any

from redis.asyncio import Redis as RedisClient

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.support.services import OidcProvider, Redis


async def test_made_up_cookies_at_sign_in_buy_no_key_and_what_is_kept_expires_in_minutes(
    api_with: Any, disposable_redis: Redis, oidc_provider: OidcProvider
) -> None:
    redis = RedisClient.from_url(disposable_redis.url)
    async with api_with(
        redis_url=disposable_redis.url,
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
    ) as api:
        made_up = [secrets.token_hex(16) for _ in range(56)]
        issued: set[str] = set()
        for cookie_id in made_up:
            response = await api.request(
                "GET", "/api/v1/auth/login", headers={"Cookie": f"{SESSION_COOKIE}={cookie_id}"}, follow_redirects=False
            )
            assert response.status_code == 302, response.text
            issued.add(response.cookies[SESSION_COOKIE])
            set_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE))
            assert f"Max-Age={api.settings.sign_in_ttl_seconds}" in set_cookie
        assert issued.isdisjoint(made_up)
        assert len(issued) == len(made_up)  # one fresh id each
        keys = [key.decode() if isinstance(key, bytes) else key for key in await redis.keys("*")]
        assert not [key for key in keys if any(cookie_id in key for cookie_id in made_up)]
        assert len(keys) == len(made_up)
        for key in keys:
            ttl = await redis.ttl(key)
            assert 0 < ttl <= 600, (key, ttl)
    await redis.aclose()


async def test_starting_to_sign_in_again_replaces_the_stored_session(
    api_with: Any, disposable_redis: Redis, oidc_provider: OidcProvider
) -> None:
    redis = RedisClient.from_url(disposable_redis.url)
    async with api_with(
        redis_url=disposable_redis.url,
        oidc_issuer=oidc_provider.issuer,
        oidc_client_id=oidc_provider.client_id,
        oidc_client_secret=oidc_provider.client_secret,
        dev_login="true",
    ) as api:
        await api.sign_in("owner")
        assert await redis.dbsize() == 1
        response = await api.request("GET", "/api/v1/auth/login", user="owner", follow_redirects=False)
        assert response.status_code == 302
        assert response.cookies[SESSION_COOKIE] != api.sessions["owner"]
        assert await redis.dbsize() == 1  # the old session went, the sign-in in progress is kept
        (key,) = await redis.keys("*")
        assert await redis.ttl(key) <= 600
    await redis.aclose()
