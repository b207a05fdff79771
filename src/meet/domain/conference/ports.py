from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from meet.domain.conference.door import OPEN, DoorState
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.model import ConnectionConfig, EntryVerdict, Participant, ParticipantGrants
from meet.domain.rooms.model import SfuRoomName


class TokenIssuer(Protocol):
    """Signs short-lived SFU access tokens carrying exactly the given grants."""

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig: ...


@dataclass(frozen=True, slots=True)
class EntryReading:
    """The join's check: its verdict, and the room's door read in the same step (``OPEN`` when nothing
    was read: no stamp and nobody to check, a temporary room)."""

    verdict: EntryVerdict
    door: DoorState = OPEN


class EntryCheck(Protocol):
    """What a join confirms, in one step (one round trip): that the room read under ``stamp`` is still as
    read (None: nothing to check) and, if so, whether ``RoomBars`` keeps one of ``identities`` out of it."""

    async def check(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryVerdict: ...

    async def read(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryReading:
        """``check``'s verdict with the room's door (locked, ended, seats taken; which of ``identities`` were
        sent back to the lobby or are in the live room), in the same step."""
        ...


class LiveRooms(Protocol):
    """The live room's lifecycle, where the SFU does not run it by itself.

    ``prepare`` makes the SFU room ready before anyone is given a connection to it (idempotent, called
    for every connection); ``handle`` reacts to the SFU's events (e.g. closing a room that emptied).
    """

    async def prepare(self, room: SfuRoomName) -> None: ...

    async def handle(self, event: SfuEvent) -> None: ...
