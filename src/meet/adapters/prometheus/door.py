"""The door, counted: each control an admin took (``meet_room_controls_total``), whichever store serves it."""

from __future__ import annotations

from datetime import datetime

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.conference.door import RoomDoor, SentBack
from meet.domain.rooms.model import SfuRoomName


class MeteredRoomDoor:
    """A ``RoomDoor`` that counts the controls ``inner`` took; every call and answer passes unchanged."""

    def __init__(self, inner: RoomDoor, metrics: PrometheusMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def lock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        changed = await self._inner.lock(room, by=by, now=now)
        if changed:
            self._metrics.room_control("lock")
        return changed

    async def unlock(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        changed = await self._inner.unlock(room, by=by, now=now)
        if changed:
            self._metrics.room_control("unlock")
        return changed

    async def end(self, room: SfuRoomName, *, by: str, now: datetime, grace_seconds: int) -> int:
        waiting = await self._inner.end(room, by=by, now=now, grace_seconds=grace_seconds)
        self._metrics.room_control("end")
        return waiting

    async def reopen(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        reopened = await self._inner.reopen(room, by=by, now=now)
        if reopened:
            self._metrics.room_control("reopen")
        return reopened

    async def send_back(
        self, room: SfuRoomName, identity: str, *, by: str, now: datetime, waiting_seconds: int, room_seconds: int
    ) -> SentBack:
        sent = await self._inner.send_back(
            room, identity, by=by, now=now, waiting_seconds=waiting_seconds, room_seconds=room_seconds
        )
        self._metrics.room_control("send_to_lobby")
        return sent

    async def joined(self, room: SfuRoomName, identity: str) -> bool:
        return await self._inner.joined(room, identity)

    async def left(self, room: SfuRoomName, identity: str) -> None:
        await self._inner.left(room, identity)

    async def finished(self, room: SfuRoomName) -> None:
        await self._inner.finished(room)
