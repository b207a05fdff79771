from __future__ import annotations

import logging

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import Sfu
from meet.domain.recordings.model import RecordingStatus
from meet.domain.rooms.live_metadata import live_room_metadata
from meet.domain.rooms.model import Room
from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.recordings")


async def publish_recording_status(sfu: Sfu, room: Room, status: RecordingStatus) -> None:
    """Tell the people in the live room that recording started or stopped (room metadata).

    Best effort: the recording's state is already committed, so a failure is logged, never raised,
    and a room nobody is in has no metadata to update.
    """
    metadata = live_room_metadata(room, recording_status=status.value)
    try:
        await sfu.update_room_metadata(room.sfu_room_name, metadata)
    except ParticipantNotInRoom:
        return
    except (ServiceUnavailable, UpstreamFailure) as error:
        logger.warning("could not publish recording status %s to room %s: %s", status, room.sfu_room_name, error)
