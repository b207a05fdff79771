"""The live room's metadata, which every participant's client reads: the room's settings and the
status of its recording in progress, always together (the SFU replaces the metadata on each update)."""

from __future__ import annotations

import logging
from typing import Any

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import Sfu
from meet.domain.recordings.model import RecordingStatus
from meet.domain.recordings.ports import RecordingReader
from meet.domain.rooms.model import Room
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.recordings")


def live_room_metadata(room: Room, *, recording_status: str | None) -> dict[str, Any]:
    """The whole metadata for ``room``; ``recording_status`` is None when no recording is running."""
    sources = room.configuration.can_publish_sources
    metadata: dict[str, Any] = {
        "access_level": room.access_level.value,
        "configuration": {
            "can_publish_sources": None if sources is None else [source.value for source in sources],
            "everyone_can_mute": room.configuration.everyone_can_mute,
        },
    }
    if recording_status is not None:
        metadata["recording_status"] = recording_status
    return metadata


async def publish_live_metadata(sfu: Sfu, room: Room, recording_status: RecordingStatus | None) -> None:
    """Best effort: what it describes is already committed, so a failure is logged, never raised,
    and a room nobody is in has no metadata to update."""
    if not sfu.capabilities.room_metadata:
        return  # clients of such an SFU read the room's settings and recording from meet's API
    metadata = live_room_metadata(room, recording_status=recording_status.value if recording_status else None)
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
        await publish_live_metadata(self._sfu, room, ongoing.status if ongoing else None)
