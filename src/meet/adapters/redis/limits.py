from __future__ import annotations

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as


class RedisSeenEvents:
    """Webhook event ids, remembered for a day (LiveKit retries within minutes)."""

    def __init__(self, client: RedisClient, *, remember_seconds: int = 86400) -> None:
        self._client = client
        self._remember = remember_seconds

    async def first_time(self, event_id: str) -> bool:
        async with unavailable_as(RedisUnavailable):
            return bool(await self._client.set(self._key(event_id), b"1", nx=True, ex=self._remember))

    async def forget(self, event_id: str) -> None:
        async with unavailable_as(RedisUnavailable):
            await self._client.delete(self._key(event_id))

    @staticmethod
    def _key(event_id: str) -> str:
        return f"meet:webhook-event:{event_id}"
