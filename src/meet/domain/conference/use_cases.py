"""Joining: opening a room gives a connection to those the join policy lets in directly."""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.conference.bars import RoomBars, speaks_for
from meet.domain.conference.join import Admission
from meet.domain.conference.model import ConnectionConfig
from meet.domain.rooms.lookup import RoomLocator, RoomVisit
from meet.domain.rooms.model import RoomRef
from meet.domain.shared.clock import Clock
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class OpenRoomRequest:
    viewer: Viewer
    room: RoomRef
    username: str | None = None


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    """The room as the caller sees it, with a connection when they may enter directly."""

    visit: RoomVisit
    connection: ConnectionConfig | None = None


class OpenRoom:
    """Anyone opens a room; those the join policy lets in directly get a connection config."""

    def __init__(self, locator: RoomLocator, admission: Admission, bars: RoomBars, clock: Clock) -> None:
        self._locator = locator
        self._admission = admission
        self._bars = bars
        self._clock = clock

    async def execute(self, request: OpenRoomRequest) -> OpenedRoom:
        viewer = request.viewer
        visit = await self._locator.visit(viewer, request.room)
        room, role = visit.room, visit.role
        if not room.lets_in_directly(authenticated=viewer.is_authenticated, role=role):
            return OpenedRoom(visit)
        identities = speaks_for(viewer)  # a direct join proves no lobby participant id
        if identities and await self._bars.barred(room.sfu_room_name, identities, self._clock.now()):
            return OpenedRoom(visit)
        connection = await self._admission.connect(room, viewer, role, requested_name=request.username)
        return OpenedRoom(visit, connection)
