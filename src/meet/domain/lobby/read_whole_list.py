"""Read a room's whole waiting list (admins), skipping the entries when the caller holds its version."""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.lobby.ports import LobbyStore
from meet.domain.lobby.whole_list import WholeWaitingList
from meet.domain.rooms.model import RoomRef, SfuRoomName
from meet.domain.rooms.snapshots import RoomSnapshots
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.users.model import Viewer

NOBODY_WAITS = "public"  # the version of a public room's list: nobody ever waits there


@dataclass(frozen=True, slots=True)
class ReadWholeListRequest:
    viewer: Viewer
    room: RoomRef
    known: str | None = None  # the version the caller holds, if any


@dataclass(frozen=True, slots=True)
class WholeList:
    """``room`` names the list (the SFU room) whatever the caller called the room by."""

    room: SfuRoomName
    waiting: WholeWaitingList


class ReadWholeList:
    """As ``ListWaiting`` (same access rule, same check of the room's stamp), for the whole list at once."""

    def __init__(self, rooms: RoomSnapshots, store: LobbyStore, clock: Clock) -> None:
        self._rooms = rooms
        self._store = store
        self._clock = clock

    async def execute(self, request: ReadWholeListRequest) -> WholeList:
        for fresh in (False, True):
            stamped = await self._rooms.stamped_administered(request.viewer, request.room, fresh=fresh)
            room = stamped.visit.room
            found = await self._store.whole_waiting_list(
                room.sfu_room_name, now=self._clock.now(), stamp=stamped.stamp, known=request.known
            )
            if not found.stale:
                break
        else:
            raise ServiceUnavailable("The room is being changed; try again.")
        if room.lets_in_directly(authenticated=False, role=None):
            entries = None if request.known == NOBODY_WAITS else ()
            return WholeList(room.sfu_room_name, WholeWaitingList(NOBODY_WAITS, entries))
        return WholeList(room.sfu_room_name, found)
