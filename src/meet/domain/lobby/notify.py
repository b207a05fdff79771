from __future__ import annotations

import json
from collections.abc import Sequence

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.model import role_in
from meet.domain.conference.sfu import Sfu
from meet.domain.lobby.model import LobbyEntry
from meet.domain.rooms.model import ADMIN_ROLES, SfuRoomName

KNOCK_TOPIC = "lobby"


class NotifyAdminsInRoom:
    """Sends one data message about knocks to the room's admins connected to the SFU, and to nobody else.

    ``participant`` is the first knock (what a client that shows one name reads); ``participants``
    lists every knock the message covers, oldest first.
    """

    def __init__(self, sfu: Sfu) -> None:
        self._sfu = sfu

    async def knocked(self, room: SfuRoomName, entries: Sequence[LobbyEntry]) -> None:
        # An SFU without server-sent data (Janus): admins learn of knocks from the waiting list's event
        # stream (``.../waiting-participants/events``), which every SFU has.
        if not entries or not self._sfu.capabilities.server_data_messages:
            return
        try:
            participants = await self._sfu.list_participants(room)
        except ParticipantNotInRoom:
            return  # nobody is in the live room yet
        admins = [p.identity for p in participants if role_in(p.attributes) in ADMIN_ROLES]
        if not admins:
            return
        knocks = [{"id": e.participant_id, "username": e.username, "color": e.color} for e in entries]
        payload = {"type": "participantWaiting", "participant": knocks[0], "participants": knocks}
        await self._sfu.send_data(
            room, json.dumps(payload).encode("utf-8"), topic=KNOCK_TOPIC, destination_identities=admins
        )
