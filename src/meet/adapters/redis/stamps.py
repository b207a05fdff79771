"""``RoomStamps`` in Redis: one key per room under the room's hash tag, beside the lobby's keys, so the
lobby's scripts and the join's check read it in their own step (on a Redis Cluster too). A key lost
with Redis (a restart, a flush, an eviction) makes every copy stale: a copy's stamp never matches a
missing key, and the next reader draws a new stamp."""

from __future__ import annotations

import uuid

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as
from meet.adapters.redis.lobby.keys import stamp_key
from meet.adapters.redis.lobby.scripts import lua_source

# A stamp lost to expiry or a restart only costs every copy one more read; an hour keeps the keys of
# rooms nobody visits any more from piling up.
STAMP_TTL_MS = 3_600_000
# How long a "changing" mark holds when the renewal after the commit never comes (Redis lost between
# the two): longer than any transaction of a room change; then the key expires into a new stamp.
CHANGING_TTL_MS = 30_000
CHANGING = "changing:"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


class RedisRoomStamps:
    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._current = client.register_script(lua_source("stamp", prelude=False))

    async def current(self, room: str) -> str | None:
        async with unavailable_as(RedisUnavailable):
            stamp = _text(await self._current(keys=[stamp_key(room)], args=[uuid.uuid4().hex, STAMP_TTL_MS]))
        return None if stamp is None or stamp.startswith(CHANGING) else stamp

    async def renew(self, room: str, *, changing: bool = False) -> None:
        stamp, ttl = (CHANGING + uuid.uuid4().hex, CHANGING_TTL_MS) if changing else (uuid.uuid4().hex, STAMP_TTL_MS)
        async with unavailable_as(RedisUnavailable):
            await self._client.set(stamp_key(room), stamp, px=ttl)

    async def is_current(self, room: str, stamp: str) -> bool:
        async with unavailable_as(RedisUnavailable):
            return _text(await self._client.get(stamp_key(room))) == stamp
