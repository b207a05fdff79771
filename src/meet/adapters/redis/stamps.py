"""``RoomStamps`` in Redis: one key per room under the room's hash tag, beside the lobby's keys, so the
lobby's scripts check it in their own step (on a Redis Cluster too)."""

from __future__ import annotations

import uuid

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as
from meet.adapters.redis.lobby.keys import stamp_key
from meet.adapters.redis.lobby.scripts import lua_source

# A stamp lost to expiry or a restart only costs every copy one more read; an hour keeps the keys of
# rooms nobody visits any more from piling up.
STAMP_TTL_MS = 3_600_000


class RedisRoomStamps:
    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._current = client.register_script(lua_source("stamp", prelude=False))

    async def current(self, room: str) -> str:
        async with unavailable_as(RedisUnavailable):
            stamp = await self._current(keys=[stamp_key(room)], args=[uuid.uuid4().hex, STAMP_TTL_MS])
        return stamp.decode() if isinstance(stamp, bytes) else str(stamp)

    async def renew(self, room: str) -> None:
        async with unavailable_as(RedisUnavailable):
            await self._client.set(stamp_key(room), uuid.uuid4().hex, px=STAMP_TTL_MS)
