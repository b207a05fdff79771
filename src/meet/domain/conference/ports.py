from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from meet.domain.conference.events import SfuEvent
from meet.domain.conference.model import ConnectionConfig, EntryVerdict, Participant, ParticipantGrants
from meet.domain.rooms.model import SfuRoomName


class TokenIssuer(Protocol):
    """Signs short-lived SFU access tokens carrying exactly the given grants."""

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig: ...


class EntryCheck(Protocol):
    """What a join confirms, in one step (one round trip): that the room read under ``stamp`` is still as
    read (None: nothing to check) and, if so, whether ``RoomBars`` keeps one of ``identities`` out of it."""

    async def check(self, room: SfuRoomName, stamp: str | None, identities: Sequence[str]) -> EntryVerdict: ...


class LiveRooms(Protocol):
    """The live room's lifecycle, where the SFU does not run it by itself.

    ``prepare`` makes the SFU room ready before anyone is given a connection to it (idempotent, called
    for every connection); ``handle`` reacts to the SFU's events (e.g. closing a room that emptied).
    """

    async def prepare(self, room: SfuRoomName) -> None: ...

    async def handle(self, event: SfuEvent) -> None: ...
