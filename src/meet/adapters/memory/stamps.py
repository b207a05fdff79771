"""``RoomStamps`` in this process's memory, read by the memory lobby store's gate."""

from __future__ import annotations

import uuid


class MemoryRoomStamps:
    def __init__(self) -> None:
        self._stamps: dict[str, str] = {}

    async def current(self, room: str) -> str:
        return self._stamps.setdefault(room, uuid.uuid4().hex)

    async def renew(self, room: str) -> None:
        self._stamps[room] = uuid.uuid4().hex

    def holds(self, room: str, stamp: str) -> bool:
        return self._stamps.get(room) == stamp
