"""The SFU port on LiveKit's RoomService."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from livekit.api import (
    DeleteRoomRequest,
    ListParticipantsRequest,
    MuteRoomTrackRequest,
    RoomParticipantIdentity,
    SendDataRequest,
    UpdateParticipantRequest,
    UpdateRoomMetadataRequest,
)
from livekit.protocol.models import DataPacket, ParticipantInfo, ParticipantPermission, TrackInfo, TrackType
from livekit.protocol.models import TrackSource as LiveKitSource

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, PublishedTrack
from meet.domain.rooms.model import DEFAULT_SOURCES, TrackSource

_TO_LIVEKIT = {
    TrackSource.CAMERA: LiveKitSource.CAMERA,
    TrackSource.MICROPHONE: LiveKitSource.MICROPHONE,
    TrackSource.SCREEN_SHARE: LiveKitSource.SCREEN_SHARE,
    TrackSource.SCREEN_SHARE_AUDIO: LiveKitSource.SCREEN_SHARE_AUDIO,
}
_FROM_LIVEKIT = {value: key for key, value in _TO_LIVEKIT.items()}
_KINDS = {TrackType.AUDIO: "audio", TrackType.VIDEO: "video", TrackType.DATA: "data"}


def published_track(info: TrackInfo) -> PublishedTrack:
    source = _FROM_LIVEKIT.get(info.source)
    return PublishedTrack(
        sid=info.sid,
        kind=_KINDS.get(info.type, "unknown"),
        source=source.value if source else "unknown",
        muted=info.muted,
    )


def publish_sources(permission: ParticipantPermission) -> tuple[TrackSource, ...]:
    """What the participant may publish now; LiveKit reads an empty source list as "every source"."""
    if not permission.can_publish:
        return ()
    if not permission.can_publish_sources:
        return DEFAULT_SOURCES
    return tuple(_FROM_LIVEKIT[source] for source in permission.can_publish_sources if source in _FROM_LIVEKIT)


def live_participant(info: ParticipantInfo) -> LiveParticipant:
    return LiveParticipant(
        identity=info.identity,
        name=info.name,
        attributes=dict(info.attributes),
        tracks=tuple(published_track(track) for track in info.tracks),
        can_publish=info.permission.can_publish,
        publish_sources=publish_sources(info.permission),
    )


def changed_permission(current: ParticipantPermission, sources: tuple[TrackSource, ...]) -> ParticipantPermission:
    """The whole current permission with only the publishing part replaced.

    UpdateParticipant replaces the permission object as a whole (unset fields become false), so
    everything else (subscribe, data, hidden, recorder, agent, ...) must be sent back as it was.
    """
    permission = ParticipantPermission()
    permission.CopyFrom(current)
    permission.can_publish = bool(sources)
    del permission.can_publish_sources[:]
    permission.can_publish_sources.extend(_TO_LIVEKIT[source] for source in dict.fromkeys(sources))
    return permission


LIVEKIT_CAPABILITIES = SfuCapabilities(
    identity_in_token=True,
    per_source_publish_grants=True,
    server_data_messages=True,
    room_metadata=True,
    participant_attributes=True,
    recording=True,
    close_room=True,
)


class LiveKitSfu:
    """``Sfu`` over LiveKit's Twirp RoomService; every call signs a token scoped to its room."""

    capabilities = LIVEKIT_CAPABILITIES

    def __init__(self, clients: LiveKitClientFactory) -> None:
        self._clients = clients

    async def list_participants(self, room: str) -> Sequence[LiveParticipant]:
        async with self._clients.guard("ListParticipants"):
            response = await self._clients.api().room.list_participants(ListParticipantsRequest(room=room))
        return tuple(live_participant(info) for info in response.participants)

    async def get_participant(self, room: str, identity: str) -> LiveParticipant | None:
        try:
            info = await self._get(room, identity)
        except ParticipantNotInRoom:
            return None
        return live_participant(info)

    async def _get(self, room: str, identity: str) -> ParticipantInfo:
        async with self._clients.guard("GetParticipant"):
            return await self._clients.api().room.get_participant(RoomParticipantIdentity(room=room, identity=identity))

    async def update_participant(self, room: str, identity: str, update: ParticipantUpdate) -> LiveParticipant:
        request = UpdateParticipantRequest(room=room, identity=identity)
        if update.name is not None:
            request.name = update.name
        if update.attributes:
            request.attributes.update(update.attributes)
        if update.publish_sources is not None:
            current = await self._get(room, identity)
            request.permission.CopyFrom(changed_permission(current.permission, update.publish_sources))
        async with self._clients.guard("UpdateParticipant"):
            updated = await self._clients.api().room.update_participant(request)
        return live_participant(updated)

    async def remove_participant(self, room: str, identity: str) -> None:
        async with self._clients.guard("RemoveParticipant"):
            await self._clients.api().room.remove_participant(RoomParticipantIdentity(room=room, identity=identity))

    async def close_room(self, room: str) -> None:
        async with self._clients.guard("DeleteRoom"):
            await self._clients.api().room.delete_room(DeleteRoomRequest(room=room))

    async def mute_published_track(self, room: str, identity: str, track_sid: str, *, muted: bool = True) -> None:
        request = MuteRoomTrackRequest(room=room, identity=identity, track_sid=track_sid, muted=muted)
        async with self._clients.guard("MutePublishedTrack"):
            await self._clients.api().room.mute_published_track(request)

    async def send_data(self, room: str, payload: bytes, *, topic: str, destination_identities: Sequence[str]) -> None:
        request = SendDataRequest(
            room=room,
            data=payload,
            kind=DataPacket.Kind.RELIABLE,
            topic=topic,
            destination_identities=list(destination_identities),
        )
        async with self._clients.guard("SendData"):
            await self._clients.api().room.send_data(request)

    async def update_room_metadata(self, room: str, metadata: Mapping[str, Any]) -> None:
        encoded = json.dumps(metadata, separators=(",", ":"), sort_keys=True)
        async with self._clients.guard("UpdateRoomMetadata"):
            await self._clients.api().room.update_room_metadata(UpdateRoomMetadataRequest(room=room, metadata=encoded))
