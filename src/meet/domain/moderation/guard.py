from __future__ import annotations

import logging

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu
from meet.domain.moderation.ports import RemovalRegistry
from meet.domain.recordings.ports import RecordingRepository
from meet.domain.rooms.live_metadata import live_room_metadata
from meet.domain.rooms.model import Room
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.moderation")


class RemovedAreBarred:
    """Entry guard: an identity removed from a room gets no token for it while its removal lasts."""

    def __init__(self, removals: RemovalRegistry) -> None:
        self._removals = removals

    async def is_barred(self, room: Room, identity: str) -> bool:
        return await self._removals.is_barred(room.sfu_room_name, identity)


class RemoveAgainOnRejoin:
    """SFU event handler: LiveKit does not revoke a removed participant's token (it even refreshes it for a
    connected client), so a removed identity that joins again is removed again."""

    def __init__(self, removals: RemovalRegistry, sfu: Sfu) -> None:
        self._removals = removals
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        if event.kind != "participant_joined" or not event.room or not event.participant_identity:
            return
        if not await self._removals.is_barred(event.room, event.participant_identity):
            return
        logger.info("removing %s from %s again: their removal still lasts", event.participant_identity, event.room)
        try:
            await self._sfu.remove_participant(event.room, event.participant_identity)
        except ParticipantNotInRoom:
            return


class PublishRoomMetadata:
    """Room change listener: the live SFU room's metadata follows the room's settings.

    The metadata also carries the status of a recording in progress, read here, so that a change of
    settings during a recording does not hide the recording from the participants.
    A failure is logged, never raised: the room's change is already committed and the next
    change (or the next join) carries the current state.
    """

    def __init__(self, sfu: Sfu, recordings: RecordingRepository) -> None:
        self._sfu = sfu
        self._recordings = recordings

    async def room_changed(self, room: Room) -> None:
        ongoing = await self._recordings.ongoing_in_room(room.id)
        metadata = live_room_metadata(room, recording_status=ongoing.status.value if ongoing else None)
        try:
            await self._sfu.update_room_metadata(room.sfu_room_name, metadata)
        except ParticipantNotInRoom:
            return  # nobody is in the live room: nothing to update
        except (ServiceUnavailable, UpstreamFailure) as error:
            logger.warning("could not update the live metadata of room %s: %s", room.sfu_room_name, error)
