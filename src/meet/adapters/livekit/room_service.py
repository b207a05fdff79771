"""The SFU port on LiveKit's RoomService."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from livekit.api import (
    ListParticipantsRequest,
    MuteRoomTrackRequest,
    RoomParticipantIdentity,
    SendDataRequest,
    UpdateParticipantRequest,
    UpdateRoomMetadataRequest,
)
from livekit.protocol.models import DataPacket, ParticipantInfo, ParticipantPermission, TrackInfo, TrackType
from livekit.protocol.models import TrackSource as LiveKitSource

from meet.adapters.livekit.client import LiveKitClientFactory, sfu_errors
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, PublishedTrack
from meet.domain.rooms.model import TrackSource

_TO_LIVEKIT = {
    TrackSource.CAMERA: LiveKitSource.CAMERA,
    TrackSource.MICROPHONE: LiveKitSource.MICROPHONE,
    TrackSource.SCREEN_SHARE: LiveKitSource.SCREEN_SHARE,
    TrackSource.SCREEN_SHARE_AUDIO: LiveKitSource.SCREEN_SHARE_AUDIO,
}
_FROM_LIVEKIT = {value: key for key, value in _TO_LIVEKIT.items()}


def _track(info: TrackInfo) -> PublishedTrack:
    source = _FROM_LIVEKIT.get(info.source)
    return PublishedTrack(
        sid=info.sid,
        kind=TrackType.Name(info.type).lower(),
        source=source.value if source else "unknown",
        muted=info.muted,
    )


def live_participant(info: ParticipantInfo) -> LiveParticipant:
    permission = info.permission
    return LiveParticipant(
        identity=info.identity,
        name=info.name,
        attributes=dict(info.attributes),
        tracks=tuple(_track(track) for track in info.tracks),
        can_publish=permission.can_publish,
        publish_sources=tuple(_FROM_LIVEKIT[s] for s in permission.can_publish_sources if s in _FROM_LIVEKIT),
    )


class LiveKitSfu:
    def __init__(self, clients: LiveKitClientFactory) -> None:
        self._clients = clients

    async def list_participants(self, room: str) -> Sequence[LiveParticipant]:
        async with sfu_errors():
            response = await self._clients.api().room.list_participants(ListParticipantsRequest(room=room))
        return tuple(live_participant(info) for info in response.participants)

    async def get_participant(self, room: str, identity: str) -> LiveParticipant | None:
        info = await self._get(room, identity)
        return live_participant(info) if info is not None else None

    async def _get(self, room: str, identity: str) -> ParticipantInfo | None:
        try:
            async with sfu_errors():
                return await self._clients.api().room.get_participant(
                    RoomParticipantIdentity(room=room, identity=identity)
                )
        except ParticipantNotInRoom:
            return None

    async def update_participant(self, room: str, identity: str, update: ParticipantUpdate) -> LiveParticipant:
        request = UpdateParticipantRequest(room=room, identity=identity)
        if update.name is not None:
            request.name = update.name
        if update.attributes:
            request.attributes.update(update.attributes)
        if update.publish_sources is not None:
            # LiveKit replaces the whole permission object (unset fields become false): start from the current one.
            current = await self._get(room, identity)
            if current is None:
                raise ParticipantNotInRoom
            permission = ParticipantPermission()
            permission.CopyFrom(current.permission)
            permission.can_publish = bool(update.publish_sources)
            del permission.can_publish_sources[:]
            permission.can_publish_sources.extend(_TO_LIVEKIT[source] for source in update.publish_sources)
            request.permission.CopyFrom(permission)
        async with sfu_errors():
            return live_participant(await self._clients.api().room.update_participant(request))

    async def remove_participant(self, room: str, identity: str) -> None:
        async with sfu_errors():
            await self._clients.api().room.remove_participant(RoomParticipantIdentity(room=room, identity=identity))

    async def mute_published_track(self, room: str, identity: str, track_sid: str, *, muted: bool = True) -> None:
        request = MuteRoomTrackRequest(room=room, identity=identity, track_sid=track_sid, muted=muted)
        async with sfu_errors():
            await self._clients.api().room.mute_published_track(request)

    async def send_data(self, room: str, payload: bytes, *, topic: str, destination_identities: Sequence[str]) -> None:
        request = SendDataRequest(
            room=room,
            data=payload,
            kind=DataPacket.Kind.RELIABLE,
            topic=topic,
            destination_identities=list(destination_identities),
        )
        async with sfu_errors():
            await self._clients.api().room.send_data(request)

    async def update_room_metadata(self, room: str, metadata: Mapping[str, Any]) -> None:
        encoded = json.dumps(metadata, separators=(",", ":"), sort_keys=True)
        async with sfu_errors():
            await self._clients.api().room.update_room_metadata(UpdateRoomMetadataRequest(room=room, metadata=encoded))
