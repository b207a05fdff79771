"""The live room's metadata, which every participant's client reads (settings, recording status)."""

from __future__ import annotations

from typing import Any

from meet.domain.rooms.model import Room


def live_room_metadata(room: Room, *, recording_status: str | None) -> dict[str, Any]:
    """The whole metadata for ``room``: LiveKit replaces it on each update, so each update carries it all.

    ``recording_status`` is the status of the room's recording, or None when none is running.
    """
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
