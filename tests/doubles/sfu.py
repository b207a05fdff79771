"""An SFU in memory, for the domain's unit tests: LiveKit's semantics, none of its wire."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, PublishedTrack


@dataclasses.dataclass
class SentData:
    room: str
    payload: bytes
    topic: str
    destination_identities: tuple[str, ...]


class MemorySfu:
    """LiveKit's capabilities by default; pass others to play an SFU that lacks some."""

    def __init__(self, capabilities: SfuCapabilities | None = None) -> None:
        self.capabilities = capabilities or SfuCapabilities(
            identity_in_token=True,
            per_source_publish_grants=True,
            server_data_messages=True,
            room_metadata=True,
            participant_attributes=True,
            recording=True,
        )
        self.rooms: dict[str, dict[str, LiveParticipant]] = {}
        self.metadata: dict[str, Mapping[str, Any]] = {}
        self.sent: list[SentData] = []
        self.removed: list[tuple[str, str]] = []
        self.closed: list[str] = []

    def join(self, room: str, participant: LiveParticipant) -> None:
        self.rooms.setdefault(room, {})[participant.identity] = participant

    def _participant(self, room: str, identity: str) -> LiveParticipant:
        participant = self.rooms.get(room, {}).get(identity)
        if participant is None:
            raise ParticipantNotInRoom
        return participant

    async def list_participants(self, room: str) -> Sequence[LiveParticipant]:
        if room not in self.rooms:
            raise ParticipantNotInRoom("No such live room.")
        return tuple(self.rooms[room].values())

    async def get_participant(self, room: str, identity: str) -> LiveParticipant | None:
        return self.rooms.get(room, {}).get(identity)

    async def update_participant(self, room: str, identity: str, update: ParticipantUpdate) -> LiveParticipant:
        current = self._participant(room, identity)
        attributes = dict(current.attributes)
        for key, value in (update.attributes or {}).items():
            if value:
                attributes[key] = value
            else:
                attributes.pop(key, None)  # LiveKit deletes an attribute set to ""
        changed = dataclasses.replace(current, name=update.name or current.name, attributes=attributes)
        if update.publish_sources is not None:
            changed = dataclasses.replace(
                changed, can_publish=bool(update.publish_sources), publish_sources=update.publish_sources
            )
        self.rooms[room][identity] = changed
        return changed

    async def remove_participant(self, room: str, identity: str) -> None:
        self._participant(room, identity)
        del self.rooms[room][identity]
        self.removed.append((room, identity))

    async def close_room(self, room: str) -> None:
        if self.rooms.pop(room, None) is None:
            raise ParticipantNotInRoom("No such live room.")
        self.closed.append(room)

    async def mute_published_track(self, room: str, identity: str, track_sid: str, *, muted: bool = True) -> None:
        current = self._participant(room, identity)
        if track_sid not in {track.sid for track in current.tracks}:
            raise ParticipantNotInRoom("No such track.")
        tracks = tuple(dataclasses.replace(t, muted=muted) if t.sid == track_sid else t for t in current.tracks)
        self.rooms[room][identity] = dataclasses.replace(current, tracks=tracks)

    async def send_data(self, room: str, payload: bytes, *, topic: str, destination_identities: Sequence[str]) -> None:
        self.sent.append(SentData(room, payload, topic, tuple(destination_identities)))

    async def update_room_metadata(self, room: str, metadata: Mapping[str, Any]) -> None:
        if room not in self.rooms:
            raise ParticipantNotInRoom("No such live room.")
        self.metadata[room] = dict(metadata)


def track(sid: str, source: str = "microphone", kind: str = "audio") -> PublishedTrack:
    return PublishedTrack(sid=sid, kind=kind, source=source, muted=False)
