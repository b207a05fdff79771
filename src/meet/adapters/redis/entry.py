"""The join's ``EntryCheck`` in Redis: the room's stamp and the room's bars, both under the room's hash
tag, read in one round trip (a ``GET`` when there is no one to check against the bars, else a script)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from meet.adapters.redis.client import RedisClient, RedisUnavailable, unavailable_as
from meet.adapters.redis.lobby import RedisBars, room_keys, stamp_key
from meet.domain.conference.model import EntryVerdict
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.shared.clock import Clock

# KEYS: the room's bars (a cache of the ledger; the member '' marks it loaded), its stamp. ARGV[1] the
# stamp the room was read under ('' for none), ARGV[2] now (ms), ARGV[3..] the identities.
_CHECK = """
local stamp = ARGV[1]
if stamp ~= '' and redis.call('GET', KEYS[2]) ~= stamp then return 'stale' end
if not redis.call('ZSCORE', KEYS[1], '') then return 'cold' end
local now = tonumber(ARGV[2])
for i = 3, #ARGV do
  local until_ms = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if until_ms and tonumber(until_ms) > now then return 'barred' end
end
return 'clear'
"""

_VERDICTS = {b"stale": EntryVerdict.STALE, b"barred": EntryVerdict.BARRED, b"clear": EntryVerdict.CLEAR}


class RedisEntryCheck:
    def __init__(self, client: RedisClient, bars: RedisBars, clock: Clock) -> None:
        self._client = client
        self._bars = bars
        self._clock = clock
        self._check = client.register_script(_CHECK)

    async def check(self, room: str, stamp: str | None, identities: Sequence[str]) -> EntryVerdict:
        if not identities:
            if stamp is None:
                return EntryVerdict.CLEAR
            async with unavailable_as(RedisUnavailable):
                current = await self._client.get(stamp_key(room))
            if isinstance(current, bytes):
                current = current.decode()
            return EntryVerdict.CLEAR if current == stamp else EntryVerdict.STALE
        keys = [_bars_key(room), stamp_key(room)]
        for _ in range(2):
            now = self._clock.now()
            async with unavailable_as(LobbyUnavailable):
                answer = await self._check(keys=keys, args=[stamp or "", _ms(now), *identities])
            if answer != b"cold":
                return _VERDICTS[answer]
            await self._bars.load(room, now)
        raise LobbyUnavailable("The bars of this room could not be loaded; try again shortly.")


def _bars_key(room: str) -> str:
    return room_keys(room)[5]  # the lobby's bars, in the order of its scripts' KEYS


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
