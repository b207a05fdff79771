"""Admins in control of the meeting's door: lock it, end the meeting for everyone, send someone back to
the lobby (``conference.door`` says what each means for those at the door).

Each control is one atomic step of the door with the lobby beside it, recorded in the room's audit log in
that same step (as the lobby's decisions are); what the SFU must do follows it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from meet.domain.conference.door import DoorPolicy, RoomDoor, RoomHasNoLobby, SentBack
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import Sfu
from meet.domain.lobby.use_cases import LobbyPolicy
from meet.domain.moderation.errors import NotYourself
from meet.domain.recordings.errors import NoRecordingInProgress
from meet.domain.recordings.use_cases import StopRecording, StopRecordingRequest
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import RoomRef, SfuRoomName
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import DomainError
from meet.domain.users.model import Viewer

logger = logging.getLogger("meet.moderation")


@dataclass(frozen=True, slots=True)
class LockRoomRequest:
    viewer: Viewer
    room: RoomRef
    locked: bool


class LockRoom:
    """Lock (or unlock) the room's door: while locked nobody new enters, members included; those inside
    stay, admins still enter. Unlocking restores the access level. Answers whether the room is locked."""

    def __init__(self, locator: RoomLocator, door: RoomDoor, clock: Clock) -> None:
        self._locator = locator
        self._door = door
        self._clock = clock

    async def execute(self, request: LockRoomRequest) -> bool:
        room = (await self._locator.administered(request.viewer, request.room)).room
        by, now = request.viewer.sub or "", self._clock.now()
        if request.locked:
            await self._door.lock(room.sfu_room_name, by=by, now=now)
        else:
            await self._door.unlock(room.sfu_room_name, by=by, now=now)
        return request.locked


@dataclass(frozen=True, slots=True)
class EndMeetingRequest:
    viewer: Viewer
    room: RoomRef


@dataclass(frozen=True, slots=True)
class EndedMeeting:
    waiting: int  # how many were waiting (and were told it ended)
    grace_seconds: int


class EndMeeting:
    """End the meeting for everyone: the door shuts for the grace period (the lobby emptied, those waiting
    told), then the SFU room is closed (everyone disconnected; an SFU that cannot close a room has each
    participant removed instead) and any recording stopped."""

    def __init__(
        self,
        locator: RoomLocator,
        door: RoomDoor,
        sfu: Sfu,
        stop_recording: StopRecording,
        clock: Clock,
        policy: DoorPolicy,
    ) -> None:
        self._locator = locator
        self._door = door
        self._sfu = sfu
        self._stop_recording = stop_recording
        self._clock = clock
        self._policy = policy

    async def execute(self, request: EndMeetingRequest) -> EndedMeeting:
        room = (await self._locator.administered(request.viewer, request.room)).room
        name = room.sfu_room_name
        grace = self._policy.end_grace_seconds
        # The door first: nobody gets a new connection while the room is being closed.
        waiting = await self._door.end(name, by=request.viewer.sub or "", now=self._clock.now(), grace_seconds=grace)
        await self._close(name)
        try:
            await self._stop_recording.execute(StopRecordingRequest(request.viewer, request.room))
        except NoRecordingInProgress:
            pass
        except DomainError as error:  # the meeting is ended whatever the recorder says; the recording tells
            logger.warning("the recording of %s could not be stopped with its meeting: %s", name, error)
        return EndedMeeting(waiting=waiting, grace_seconds=grace)

    async def _close(self, room: SfuRoomName) -> None:
        with contextlib.suppress(ParticipantNotInRoom):  # no live room: nobody to disconnect
            if self._sfu.capabilities.close_room:
                await self._sfu.close_room(room)
                return
            for participant in await self._sfu.list_participants(room):
                with contextlib.suppress(ParticipantNotInRoom):
                    await self._sfu.remove_participant(room, participant.identity)


@dataclass(frozen=True, slots=True)
class SendToLobbyRequest:
    viewer: Viewer
    room: RoomRef
    identity: str


class SendToLobby:
    """Move a participant of the live meeting back to the waiting room: the door first (a guest's entry
    waits again, same participant and credential; a member's direct entry is suspended for this meeting),
    then they are removed from the SFU room; they come back only when admitted again."""

    def __init__(self, locator: RoomLocator, door: RoomDoor, sfu: Sfu, clock: Clock, lobby: LobbyPolicy) -> None:
        self._locator = locator
        self._door = door
        self._sfu = sfu
        self._clock = clock
        self._lobby = lobby

    async def execute(self, request: SendToLobbyRequest) -> SentBack:
        room = (await self._locator.administered(request.viewer, request.room)).room
        if request.identity == request.viewer.sub:
            raise NotYourself("You cannot send yourself to the lobby.")
        if room.lets_in_directly(authenticated=False, role=None):
            raise RoomHasNoLobby
        name = room.sfu_room_name
        present = await self._sfu.get_participant(name, request.identity)
        if present is None:
            raise ParticipantNotInRoom
        timeouts = self._lobby.timeouts
        sent = await self._door.send_back(
            name,
            request.identity,
            by=request.viewer.sub or "",
            now=self._clock.now(),
            waiting_seconds=timeouts.waiting,
            room_seconds=timeouts.longest + 60,
        )
        with contextlib.suppress(ParticipantNotInRoom):  # they left meanwhile: they are out already
            await self._sfu.remove_participant(name, request.identity)
        return sent
