"""The live room's metadata, which every participant's client reads: the room's settings and the
status of its recording in progress, always together (the SFU replaces the metadata on each update)."""

from __future__ import annotations

import logging
from typing import Any

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import Sfu
from meet.domain.recordings.model import Recording, RecordingStatus
from meet.domain.recordings.ports import RecordingReader
from meet.domain.rooms.model import Room
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.recordings")


# What the live room says of a recording, in the words its clients read (La Suite Meet's frontend:
# ``starting``, ``started``, ``saving``); a recording in any other status is not shown.
LIVE_RECORDING_STATUS = {
    RecordingStatus.INITIATED: "starting",
    RecordingStatus.ACTIVE: "started",
    RecordingStatus.STOPPED: "saving",
}


def live_room_metadata(room: Room, *, recording: Recording | None) -> dict[str, Any]:
    """The whole metadata for ``room``; ``recording``: the room's latest, or None."""
    sources = room.configuration.can_publish_sources
    metadata: dict[str, Any] = {
        "access_level": room.access_level.value,
        "configuration": {
            "can_publish_sources": None if sources is None else [source.value for source in sources],
            "everyone_can_mute": room.configuration.everyone_can_mute,
        },
    }
    shown = LIVE_RECORDING_STATUS.get(recording.status) if recording is not None else None
    if recording is not None and shown is not None:
        metadata["recording_status"] = shown
        metadata["recording_mode"] = recording.mode.value
    return metadata


async def publish_live_metadata(sfu: Sfu, room: Room, recording: Recording | None) -> None:
    """Best effort: what it describes is already committed, so a failure is logged, never raised,
    and a room nobody is in has no metadata to update."""
    if not sfu.capabilities.room_metadata:
        return  # clients of such an SFU read the room's settings and recording from meet's API
    metadata = live_room_metadata(room, recording=recording)
    try:
        await sfu.update_room_metadata(room.sfu_room_name, metadata)
    except ParticipantNotInRoom:
        return
    except (ServiceUnavailable, UpstreamFailure) as error:
        logger.warning("could not update the live metadata of room %s: %s", room.sfu_room_name, error)


class PublishRoomMetadata:
    """Room change listener: the live SFU room's metadata follows the room's settings, and keeps
    showing a recording in progress (read here), so a change of settings never hides it."""

    def __init__(self, sfu: Sfu, recordings: RecordingReader) -> None:
        self._sfu = sfu
        self._recordings = recordings

    async def room_changed(self, room: Room) -> None:
        ongoing = await self._recordings.ongoing_in_room(room.id)
        await publish_live_metadata(self._sfu, room, ongoing)
