"""The SFU as the domain needs it: who is in a live room, and what may be done to them.

LiveKit is one implementation (``meet.adapters.livekit``); another SFU would implement the
same two ports and serve the same endpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.rooms.model import SfuRoomName, TrackSource


@dataclass(frozen=True, slots=True)
class PublishedTrack:
    sid: str
    kind: str  # "audio" | "video" | "data"
    source: str  # "camera", "microphone", "screen_share", "screen_share_audio" or "unknown"
    muted: bool


@dataclass(frozen=True, slots=True)
class LiveParticipant:
    """A participant connected to a live SFU room right now."""

    identity: str
    name: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    tracks: tuple[PublishedTrack, ...] = ()
    can_publish: bool = False
    publish_sources: tuple[TrackSource, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantUpdate:
    """A change to a live participant; ``None`` leaves that part as it is.

    ``publish_sources`` replaces what the participant may publish (an empty tuple: nothing).
    Every other permission is kept as the SFU currently has it.
    """

    name: str | None = None
    attributes: Mapping[str, str] | None = None
    publish_sources: tuple[TrackSource, ...] | None = None


class Sfu(Protocol):
    """Room-service operations on live rooms, addressed by SFU room name and identity.

    Raise ``ParticipantNotInRoom`` for an unknown room or identity, ``SfuUnavailable``
    when the SFU cannot be reached, ``SfuRequestFailed`` when it refuses the request, and
    ``SfuCapabilityMissing`` for an operation its ``capabilities`` say it cannot do.
    """

    @property
    def capabilities(self) -> SfuCapabilities: ...

    async def list_participants(self, room: SfuRoomName) -> Sequence[LiveParticipant]: ...

    async def get_participant(self, room: SfuRoomName, identity: str) -> LiveParticipant | None: ...

    async def update_participant(
        self, room: SfuRoomName, identity: str, update: ParticipantUpdate
    ) -> LiveParticipant: ...

    async def remove_participant(self, room: SfuRoomName, identity: str) -> None: ...

    async def close_room(self, room: SfuRoomName) -> None:
        """Close the live room, disconnecting everyone (``capabilities.close_room``)."""
        ...

    async def mute_published_track(
        self, room: SfuRoomName, identity: str, track_sid: str, *, muted: bool = True
    ) -> None: ...

    async def send_data(
        self, room: SfuRoomName, payload: bytes, *, topic: str, destination_identities: Sequence[str]
    ) -> None: ...

    async def update_room_metadata(self, room: SfuRoomName, metadata: Mapping[str, Any]) -> None:
        """Replace the live room's metadata (JSON-encoded by the adapter); no-op semantics are the SFU's."""
        ...


class RecordingEgress(Protocol):
    """Starts and stops the SFU's recorder for a room, writing one object to the recordings bucket."""

    async def start(self, room: SfuRoomName, *, object_key: str, audio_only: bool) -> str:
        """Start recording ``room`` into ``object_key``; return the egress id."""
        ...

    async def stop(self, egress_id: str) -> None: ...
