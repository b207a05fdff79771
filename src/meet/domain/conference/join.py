from __future__ import annotations

import uuid

from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants
from meet.domain.conference.ports import LiveRooms, TokenIssuer
from meet.domain.rooms.model import Role, Room
from meet.domain.users.model import Viewer


class Admission:
    """Turns "this person may enter this room" into a signed connection config.

    The identity is the user's ``sub`` when signed in, else the id the caller passes
    (a lobby participant id), else a fresh UUID4: never a value the client chose. An anonymous
    identity passed with its color (the lobby's) keeps it: it is the same ``color_for``, not computed twice.
    """

    def __init__(self, issuer: TokenIssuer, rooms: LiveRooms) -> None:
        self._issuer = issuer
        self._rooms = rooms

    async def connect(
        self,
        room: Room,
        viewer: Viewer,
        role: Role | None,
        *,
        requested_name: str | None,
        anonymous_identity: str | None = None,
        anonymous_color: str | None = None,
    ) -> ConnectionConfig:
        identity = viewer.sub if viewer.sub is not None else anonymous_identity or str(uuid.uuid4())
        participant = Participant.build(
            identity=identity,
            color=anonymous_color if viewer.sub is None else None,
            requested_name=requested_name,
            full_name=viewer.full_name,
            role=role,
            is_authenticated=viewer.is_authenticated,
        )
        grants = ParticipantGrants.for_role(room, role)
        await self._rooms.prepare(grants.room)
        return self._issuer.connection_for(participant, grants)
