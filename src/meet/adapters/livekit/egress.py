"""The recorder port on LiveKit Egress: a room composite written as one object to the recordings bucket."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from livekit.api import (
    EncodedFileOutput,
    EncodedFileType,
    RoomCompositeEgressRequest,
    S3Upload,
    StopEgressRequest,
)

from meet.adapters.livekit.client import LiveKitClientFactory
from meet.domain.conference.errors import ParticipantNotInRoom, RoomNotLive, SfuRequestFailed

logger = logging.getLogger("meet.livekit")


@dataclass(frozen=True, slots=True)
class EgressStorage:
    """Where the egress uploads: any S3-compatible endpoint (MinIO needs path-style addressing)."""

    bucket: str
    endpoint: str
    region: str
    access_key: str
    secret: str = field(repr=False)
    force_path_style: bool = True


class LiveKitRecordingEgress:
    """``RecordingEgress`` over LiveKit's Twirp Egress service.

    Every failure, including an egress id LiveKit does not know on stop (``not_found``) or one that
    already ended (``failed_precondition``), is ``SfuRequestFailed``: the caller must not report it
    as stopped, and there is no participant to be "not in the room".
    """

    def __init__(self, clients: LiveKitClientFactory, storage: EgressStorage) -> None:
        self._clients = clients
        self._storage = storage

    def _request(self, room: str, *, object_key: str, audio_only: bool) -> RoomCompositeEgressRequest:
        upload = S3Upload(
            bucket=self._storage.bucket,
            endpoint=self._storage.endpoint,
            region=self._storage.region,
            access_key=self._storage.access_key,
            secret=self._storage.secret,
            force_path_style=self._storage.force_path_style,
        )
        output = EncodedFileOutput(
            file_type=EncodedFileType.OGG if audio_only else EncodedFileType.MP4,
            filepath=object_key,
            s3=upload,
        )
        return RoomCompositeEgressRequest(room_name=room, audio_only=audio_only, file_outputs=[output])

    async def start(self, room: str, *, object_key: str, audio_only: bool) -> str:
        request = self._request(room, object_key=object_key, audio_only=audio_only)
        try:
            async with self._clients.guard("StartRoomCompositeEgress"):
                info = await self._clients.api().egress.start_room_composite_egress(request)
        except ParticipantNotInRoom as error:  # LiveKit's not_found: the room does not exist (nobody is in it)
            raise RoomNotLive from error
        if not info.egress_id:
            # Nothing to stop or follow later: as good as a refusal.
            logger.warning("LiveKit StartRoomCompositeEgress answered without an egress id")
            raise SfuRequestFailed("The media server accepted the recording but gave it no egress id.")
        return str(info.egress_id)

    async def stop(self, egress_id: str) -> None:
        async with self._clients.guard("StopEgress", not_found_means_absent=False):
            await self._clients.api().egress.stop_egress(StopEgressRequest(egress_id=egress_id))
