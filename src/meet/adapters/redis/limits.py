from __future__ import annotations

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as

_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
if n > tonumber(ARGV[2]) then return redis.call('PTTL', KEYS[1]) end
return -1
"""


class RedisRateLimiter:
    """Fixed windows shared by every API process: one counter key per bucket, expiring with its window."""

    def __init__(self, client: RedisClient) -> None:
        self._hit = client.register_script(_HIT)

    async def hit(self, bucket: str, *, limit: int, window_seconds: int) -> int | None:
        async with unavailable_as(RedisUnavailable):
            remaining_ms = int(await self._hit(keys=[f"meet:rate:{{{bucket}}}"], args=[window_seconds * 1000, limit]))
        if remaining_ms < 0:
            return None
        return max(1, -(-remaining_ms // 1000))


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
