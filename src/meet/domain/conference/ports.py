from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from meet.domain.conference.events import SfuEvent
from meet.domain.conference.model import ConnectionConfig, EntryVerdict, Participant, ParticipantGrants
from meet.domain.rooms.model import Room


class TokenIssuer(Protocol):
    """Signs short-lived SFU access tokens carrying exactly the given grants."""

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig: ...


class EntryGuard(Protocol):
    """Says whether an identity is currently kept out of a room (e.g. after being removed)."""

    async def is_barred(self, room: Room, identity: str) -> bool: ...


class EntryCheck(Protocol):
    """In one step (one round trip): whether the room read under ``stamp`` is still as read (None:
    nothing to check) and, if so, whether one of ``identities`` is kept out of it (a removal's bar)."""

    async def check(self, room: str, stamp: str | None, identities: Sequence[str]) -> EntryVerdict: ...


class LiveRooms(Protocol):
    """The live room's lifecycle, where the SFU does not run it by itself.

    ``prepare`` makes the SFU room ready before anyone is given a connection to it (idempotent, called
    for every connection); ``handle`` reacts to the SFU's events (e.g. closing a room that emptied).
    """

    async def prepare(self, room: str) -> None: ...

    async def handle(self, event: SfuEvent) -> None: ...
