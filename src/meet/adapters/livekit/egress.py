"""The recorder port on LiveKit Egress: a room composite written to the recordings bucket."""

from __future__ import annotations

from dataclasses import dataclass

from livekit.api import (
    EncodedFileOutput,
    EncodedFileType,
    RoomCompositeEgressRequest,
    S3Upload,
    StopEgressRequest,
)

from meet.adapters.livekit.client import LiveKitClientFactory, sfu_errors


@dataclass(frozen=True, slots=True)
class EgressStorage:
    """Where the egress uploads: any S3-compatible endpoint, path-style."""

    bucket: str
    endpoint: str
    region: str
    access_key: str
    secret: str


class LiveKitRecordingEgress:
    def __init__(self, clients: LiveKitClientFactory, storage: EgressStorage) -> None:
        self._clients = clients
        self._storage = storage

    async def start(self, room: str, *, object_key: str, audio_only: bool) -> str:
        upload = S3Upload(
            bucket=self._storage.bucket,
            endpoint=self._storage.endpoint,
            region=self._storage.region,
            access_key=self._storage.access_key,
            secret=self._storage.secret,
            force_path_style=True,
        )
        output = EncodedFileOutput(
            file_type=EncodedFileType.OGG if audio_only else EncodedFileType.MP4,
            filepath=object_key,
            s3=upload,
        )
        request = RoomCompositeEgressRequest(room_name=room, audio_only=audio_only, file_outputs=[output])
        async with sfu_errors():
            info = await self._clients.api().egress.start_room_composite_egress(request)
        return str(info.egress_id)

    async def stop(self, egress_id: str) -> None:
        async with sfu_errors():
            await self._clients.api().egress.stop_egress(StopEgressRequest(egress_id=egress_id))
