"""The lobby in Redis, one module per concern:

- ``keys``: the key schema and hash tags of a room (and its push channel);
- ``codec``: entries and events as they are stored and published;
- ``lua/``: the Lua programs, one file each, sharing ``prelude.lua``; ``scripts``: one typed builder each;
- ``store``: ``RedisLobbyStore``; ``bars``: ``RedisRoomBars``, the bars cache, and ``RedisEntryCheck``, the
  join's check of the room's stamp and bars in one step.
"""

from meet.adapters.redis.lobby.bars import RedisEntryCheck, RedisRoomBars
from meet.adapters.redis.lobby.store import RedisLobbyStore

__all__ = ["RedisEntryCheck", "RedisLobbyStore", "RedisRoomBars"]
