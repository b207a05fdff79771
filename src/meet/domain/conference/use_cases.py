"""Joining: opening a room gives a connection to those the join policy lets in directly."""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.conference.bars import speaks_for
from meet.domain.conference.door import DoorPolicy, DoorRefusal, Entrant, RoomDoor, refusal_error
from meet.domain.conference.join import Admission
from meet.domain.conference.model import ConnectionConfig, EntryVerdict
from meet.domain.conference.ports import EntryCheck, EntryReading
from meet.domain.rooms.lookup import RoomVisit
from meet.domain.rooms.model import RoomRef
from meet.domain.rooms.snapshots import RoomSnapshots, StampedVisit
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import ServiceUnavailable
from meet.domain.users.model import Viewer


@dataclass(frozen=True, slots=True)
class OpenRoomRequest:
    viewer: Viewer
    room: RoomRef
    username: str | None = None


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    """The room as the caller sees it, with a connection when they may enter directly; ``held`` says why
    someone the join policy lets in directly got none (the door: locked, or sent back to the lobby: they
    knock instead)."""

    visit: RoomVisit
    connection: ConnectionConfig | None = None
    locked: bool = False
    held: DoorRefusal | None = None


class OpenRoom:
    """Anyone opens a room; those the join policy lets in directly get a connection config.

    A caller with a bearer token (an application, a resource-server token) sees the room and never a
    connection: joining is for people, through the join policy and the lobby, in a browser session.

    The room and the caller's role come from this process's copy; one check (``EntryCheck``) confirms
    that the copy is still the room's and, for whoever would get a connection, that they are not barred:
    a room or a role that changed since is read again, so every change applies to this very request.
    """

    def __init__(
        self,
        rooms: RoomSnapshots,
        admission: Admission,
        check: EntryCheck,
        door: RoomDoor,
        policy: DoorPolicy,
        clock: Clock,
    ) -> None:
        self._rooms = rooms
        self._admission = admission
        self._check = check
        self._door = door
        self._policy = policy
        self._clock = clock

    async def execute(self, request: OpenRoomRequest) -> OpenedRoom:
        viewer = request.viewer
        if viewer.by_token:  # tokens manage meetings: none ever reaches the SFU
            return OpenedRoom((await self._rooms.stamped_visit(viewer, request.room, fresh=True)).visit)
        for fresh in (False, True):
            stamped = await self._rooms.stamped_visit(viewer, request.room, fresh=fresh)
            reading = await self._checked(stamped, viewer)
            if reading.verdict is not EntryVerdict.STALE:
                break
        else:
            raise ServiceUnavailable("The room is being changed; try again.")
        visit, door = stamped.visit, reading.door
        if reading.verdict is EntryVerdict.BARRED or not self._lets_in(visit, viewer):
            return OpenedRoom(visit, locked=door.locked)
        # The door, read in the same step: an ended meeting or a full room refuse, a lock or a send-back
        # hold the caller at the lobby; an admin passes, and their join opens an ended meeting again.
        now = self._clock.now()
        entrant = Entrant(
            admin=visit.is_administrable,
            capacity=self._policy.capacity(visit.room.configuration.max_participants),
            identities=speaks_for(viewer),
        )
        refusal = door.refusal(entrant, now)
        if refusal is not None:
            error = refusal_error(refusal)
            if error is not None:
                raise error
            return OpenedRoom(visit, locked=door.locked, held=refusal)
        if entrant.admin and door.ended(now):
            await self._door.reopen(visit.room.sfu_room_name, by=viewer.sub or "", now=now)
        connection = await self._admission.connect(visit.room, viewer, visit.role, requested_name=request.username)
        return OpenedRoom(visit, connection, locked=door.locked)

    @staticmethod
    def _lets_in(visit: RoomVisit, viewer: Viewer) -> bool:
        return visit.room.lets_in_directly(authenticated=viewer.is_authenticated, role=visit.role)

    async def _checked(self, stamped: StampedVisit, viewer: Viewer) -> EntryReading:
        # A direct join proves no lobby participant id (an anonymous caller's identity is minted by this
        # request), and only whoever would get a connection needs to be checked.
        identities = speaks_for(viewer) if self._lets_in(stamped.visit, viewer) else ()
        name = stamped.visit.room.sfu_room_name
        try:
            return await self._check.read(name, stamped.stamp, identities)
        except ServiceUnavailable:
            if identities or stamped.stamp is None:
                raise
            # The stamps cannot be reached: a copy cannot be confirmed, so the room is read as it is now
            # (an anonymous join keeps working on the database alone, as without copies, and without its door).
            return EntryReading(EntryVerdict.STALE)
