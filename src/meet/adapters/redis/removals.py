from __future__ import annotations

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as


class RedisRemovalRegistry:
    """One expiring key per removed identity, tagged with the room like the room's lobby keys."""

    def __init__(self, client: RedisClient) -> None:
        self._client = client

    @staticmethod
    def _key(room: str, identity: str) -> str:
        return f"meet:removed:{{{room}}}:{identity}"

    async def bar(self, room: str, identity: str, seconds: int) -> None:
        async with unavailable_as(RedisUnavailable):
            await self._client.set(self._key(room, identity), b"1", ex=seconds)

    async def is_barred(self, room: str, identity: str) -> bool:
        async with unavailable_as(RedisUnavailable):
            return bool(await self._client.exists(self._key(room, identity)))
