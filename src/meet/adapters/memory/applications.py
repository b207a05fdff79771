"""In-process versions for the single-process embedded default and unit tests."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from meet.domain.applications.model import Application


class MemorySeenAssertions:
    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    async def first_use(self, key: str, until: datetime, now: datetime) -> bool:
        if len(self._seen) > 10_000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        expiry = self._seen.get(key)
        if expiry is not None and expiry > now:
            return False
        self._seen[key] = until
        return True


class MemoryApplicationRevocations:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}

    async def revoke(self, client_id: str, seconds: int) -> None:
        self._until[client_id] = time.monotonic() + seconds

    async def revoked(self, client_id: str) -> bool:
        until = self._until.get(client_id)
        return until is not None and until > time.monotonic()


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window_seconds: int) -> int:
        now = time.monotonic()
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window_seconds:
            start, count = now, 0
        self._windows[key] = (start, count + 1)
        if count + 1 <= limit:
            return 0
        return max(1, math.ceil(window_seconds - (now - start)))


class MemoryApplicationRegistry:
    def __init__(self) -> None:
        self._applications: dict[uuid.UUID, Application] = {}

    async def add(self, application: Application) -> Application:
        self._applications[application.client_id] = application
        return application

    async def get(self, client_id: uuid.UUID) -> Application | None:
        return self._applications.get(client_id)

    async def all(self) -> Sequence[Application]:
        return list(self._applications.values())

    async def save(self, application: Application) -> None:
        if application.client_id in self._applications:
            self._applications[application.client_id] = replace(application)

    async def remove(self, client_id: uuid.UUID) -> bool:
        return self._applications.pop(client_id, None) is not None
