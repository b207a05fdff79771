"""``RoomDoor`` on Redis: the door's keys sit beside the room's lobby (``keys.LobbyKeys``: ``door``,
``present``, ``held``), so each control is one script with the lobby it changes, and the knock's, the
admission's and the join's scripts read the door in the step they already take."""

from __future__ import annotations

from datetime import datetime

from meet.adapters.redis.client import RedisClient, unavailable_as
from meet.adapters.redis.lobby import scripts
from meet.adapters.redis.lobby.bars import ms
from meet.adapters.redis.lobby.keys import room_keys
from meet.domain.conference.door import SentBack
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.rooms.model import SfuRoomName


class RedisRoomDoor:
    """The door of each room on one Redis server, or on a Redis Cluster with ``sharded=True``."""

    def __init__(self, client: RedisClient, *, sharded: bool = False) -> None:
        self._lock = scripts.Program(client, scripts.Lock, sharded=sharded)
        self._end = scripts.Program(client, scripts.End, sharded=sharded)
        self._reopen = scripts.Program(client, scripts.Reopen, sharded=sharded)
        self._send_back = scripts.Program(client, scripts.SendBack, sharded=sharded)
        self._presence = scripts.Program(client, scripts.Presence, sharded=sharded)

    async def lock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        return await self._locked(room, locked=True, by=by, now=now)

    async def unlock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        return await self._locked(room, locked=False, by=by, now=now)

    async def _locked(self, room: SfuRoomName, *, locked: bool, by: str, now: datetime) -> bool:
        async with unavailable_as(LobbyUnavailable):
            return bool(await self._lock(room_keys(room), scripts.Lock(locked=locked, by=by, now=ms(now))))

    async def end(self, room: SfuRoomName, *, by: str, now: datetime, grace_seconds: int) -> int:
        args = scripts.End(by=by, now=ms(now), until_ms=ms(now) + grace_seconds * 1000)
        async with unavailable_as(LobbyUnavailable):
            return int(await self._end(room_keys(room), args))

    async def reopen(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        async with unavailable_as(LobbyUnavailable):
            return bool(await self._reopen(room_keys(room), scripts.Reopen(by=by, now=ms(now))))

    async def send_back(
        self, room: SfuRoomName, identity: str, *, by: str, now: datetime, waiting_seconds: int, room_seconds: int
    ) -> SentBack:
        args = scripts.SendBack(
            identity=identity, by=by, now=ms(now), waiting_ttl=waiting_seconds * 1000, room_ttl=room_seconds * 1000
        )
        async with unavailable_as(LobbyUnavailable):
            kind = await self._send_back(room_keys(room), args)
        return SentBack(identity, participant_id=identity if kind == b"guest" else None)

    async def joined(self, room: SfuRoomName, identity: str) -> bool:
        async with unavailable_as(LobbyUnavailable):
            answer = await self._presence(room_keys(room), scripts.Presence(kind="joined", identity=identity))
        return bool(answer != b"kept_out")

    async def left(self, room: SfuRoomName, identity: str) -> None:
        async with unavailable_as(LobbyUnavailable):
            await self._presence(room_keys(room), scripts.Presence(kind="left", identity=identity))

    async def finished(self, room: SfuRoomName) -> None:
        async with unavailable_as(LobbyUnavailable):
            await self._presence(room_keys(room), scripts.Presence(kind="finished"))
