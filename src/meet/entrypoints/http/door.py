"""The meeting's door over HTTP (admins): lock and unlock it, end the meeting for everyone, send a
participant back to the lobby."""

from __future__ import annotations

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, delete, post, put

from meet.domain.moderation.door import (
    EndMeeting,
    EndMeetingRequest,
    LockRoom,
    LockRoomRequest,
    SendToLobby,
    SendToLobbyRequest,
)
from meet.domain.rooms.model import RoomRef
from meet.domain.users.model import Viewer


class LockOut(msgspec.Struct):
    locked: bool


class EndedOut(msgspec.Struct):
    ended: bool
    waiting: int  # how many were waiting, told it ended
    grace_seconds: int  # how long joins other than an admin's answer meeting_ended


class SentToLobbyOut(msgspec.Struct):
    identity: str
    # A guest's entry is waiting again (same participant id and credential); a member is suspended for this
    # meeting: their join answers ``held: "sent_to_lobby"`` and their knock makes them wait.
    status: str  # "waiting" | "suspended"
    participant_id: str | None = None


class DoorController(Controller):
    path = "/rooms/{id_or_slug:str}"
    tags = ["door"]

    @put("/lock", status_code=200, summary="Lock the room: nobody new enters, members included (admins)")
    async def lock(self, id_or_slug: str, viewer: FromDishka[Viewer], lock: FromDishka[LockRoom]) -> LockOut:
        return LockOut(locked=await lock.execute(LockRoomRequest(viewer, RoomRef(id_or_slug), locked=True)))

    @delete("/lock", status_code=200, summary="Unlock the room: its access level applies again (admins)")
    async def unlock(self, id_or_slug: str, viewer: FromDishka[Viewer], lock: FromDishka[LockRoom]) -> LockOut:
        return LockOut(locked=await lock.execute(LockRoomRequest(viewer, RoomRef(id_or_slug), locked=False)))

    @post("/end", status_code=200, summary="End the meeting for everyone (admins)")
    async def end(self, id_or_slug: str, viewer: FromDishka[Viewer], end: FromDishka[EndMeeting]) -> EndedOut:
        ended = await end.execute(EndMeetingRequest(viewer, RoomRef(id_or_slug)))
        return EndedOut(ended=True, waiting=ended.waiting, grace_seconds=ended.grace_seconds)

    @post(
        "/participants/{identity:str}/send-to-lobby",
        status_code=200,
        summary="Send a participant back to the lobby: out of the live room until admitted again (admins)",
    )
    async def send_to_lobby(
        self, id_or_slug: str, identity: str, viewer: FromDishka[Viewer], send: FromDishka[SendToLobby]
    ) -> SentToLobbyOut:
        sent = await send.execute(SendToLobbyRequest(viewer, RoomRef(id_or_slug), identity))
        status = "waiting" if sent.participant_id else "suspended"
        return SentToLobbyOut(identity=sent.identity, status=status, participant_id=sent.participant_id)
