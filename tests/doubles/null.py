"""Listeners and guards that do nothing, for use cases whose side effects a test does not look at."""

from __future__ import annotations

from meet.domain.rooms.model import Room


class IgnoreRoomChanges:
    async def room_changed(self, room: Room) -> None:  # noqa: ARG002 - the null listener
        return None


class NothingElseInRooms:
    """The null deletion listener: a room holds nothing but its accesses."""

    async def room_deleting(self, room: Room) -> None:  # noqa: ARG002 - the null listener
        return
