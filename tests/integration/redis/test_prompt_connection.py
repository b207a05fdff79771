"""meet's Redis connection packs commands itself (hiredis): whatever it sends reaches Redis intact."""

from __future__ import annotations

import pytest
from redis.exceptions import DataError

from meet.adapters.redis.client import PromptConnection, create_redis


async def test_every_kind_of_argument_reaches_redis_as_it_was_given(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        assert redis.connection_pool.connection_class is PromptConnection
        values: list[bytes | str | int | float | bytearray | memoryview] = [
            "Zoë ✓",
            b"\x00\xffbinary\r\n",
            -42,
            10**20,
            2.5,
            "",
            bytearray(b"from a bytearray"),
            memoryview(b"from a view"),
            "x" * 100_000,  # beyond redis-py's own chunking cutoff
        ]
        await redis.delete("prompt:list")
        await redis.rpush("prompt:list", *values)
        stored = await redis.lrange("prompt:list", 0, -1)
        assert stored == [
            "Zoë ✓".encode(),
            b"\x00\xffbinary\r\n",
            b"-42",
            b"100000000000000000000",
            b"2.5",
            b"",
            b"from a bytearray",
            b"from a view",
            b"x" * 100_000,
        ]
        assert await redis.config_get("maxmemory-policy")  # sent as "CONFIG GET": a command name of two words
    finally:
        await redis.aclose()


@pytest.mark.parametrize("value", [True, None, object()], ids=["bool", "none", "object"])
async def test_a_value_redis_has_no_form_for_is_refused_before_anything_is_sent(redis_url: str, value: object) -> None:
    redis = create_redis(redis_url)
    try:
        with pytest.raises(DataError):
            await redis.set("prompt:refused", value)  # type: ignore[arg-type]
        assert await redis.exists("prompt:refused") == 0
        assert await redis.ping()  # the connection is still good for the next command
    finally:
        await redis.aclose()
