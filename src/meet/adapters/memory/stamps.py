"""``RoomStamps`` in this process's memory, read by the memory lobby store's gate."""

from __future__ import annotations

import uuid

CHANGING = "changing:"


class MemoryRoomStamps:
    def __init__(self) -> None:
        self._stamps: dict[str, str] = {}

    async def current(self, room: str) -> str | None:
        stamp = self._stamps.setdefault(room, uuid.uuid4().hex)
        return None if stamp.startswith(CHANGING) else stamp

    async def renew(self, room: str, *, changing: bool = False) -> None:
        self._stamps[room] = (CHANGING if changing else "") + uuid.uuid4().hex

    async def is_current(self, room: str, stamp: str) -> bool:
        return self.holds(room, stamp)

    def holds(self, room: str, stamp: str) -> bool:
        return self._stamps.get(room) == stamp
