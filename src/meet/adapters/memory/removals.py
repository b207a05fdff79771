from __future__ import annotations

import time


class MemoryRemovalRegistry:
    """Removals in this process's memory; each expires after its own duration."""

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}

    async def bar(self, room: str, identity: str, seconds: int) -> None:
        self._until[(room, identity)] = time.monotonic() + seconds

    async def is_barred(self, room: str, identity: str) -> bool:
        until = self._until.get((room, identity))
        if until is None:
            return False
        if until <= time.monotonic():
            del self._until[(room, identity)]
            return False
        return True
