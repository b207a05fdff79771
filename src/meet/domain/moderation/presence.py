from __future__ import annotations

from meet.domain.conference.sfu import Sfu
from meet.domain.moderation.errors import NotPresent
from meet.domain.moderation.ports import ParticipantCredentials, ParticipantTokenVerifier
from meet.domain.rooms.model import Room
from meet.domain.shared.errors import AuthenticationRequired


class PresentParticipants:
    """The participant a bearer SFU token proves: issued for this room, and connected to it right now."""

    def __init__(self, verifier: ParticipantTokenVerifier, sfu: Sfu) -> None:
        self._verifier = verifier
        self._sfu = sfu

    async def bearer_of(self, room: Room, token: str | None) -> ParticipantCredentials:
        if not token:
            raise AuthenticationRequired
        credentials = self._verifier.verify(token)
        if credentials.room != room.sfu_room_name:
            raise NotPresent("The token is not for this room.")
        if await self._sfu.get_participant(room.sfu_room_name, credentials.identity) is None:
            raise NotPresent
        return credentials
