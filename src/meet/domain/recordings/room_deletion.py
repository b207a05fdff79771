"""A deleted room takes its recordings with it: the files in the bucket as well as the rows."""

from __future__ import annotations

from meet.domain.recordings.errors import RoomRecordingsUnfinished
from meet.domain.recordings.ports import ObjectStorage, RecordingUnitOfWork
from meet.domain.rooms.model import Room


class DeleteRoomRecordings:
    """Room deletion listener: the room's recordings' objects, then their rows.

    A recording still being made or uploaded keeps the room (its file could land after the room is
    gone, where nobody may ever download or delete it). Objects go before rows, as when one recording is
    deleted: if the storage fails half-way, the room and the remaining rows stay, and deleting the room
    again finishes the job (a missing object is not an error).
    """

    def __init__(self, uow: RecordingUnitOfWork, storage: ObjectStorage) -> None:
        self._uow = uow
        self._storage = storage

    async def room_deleting(self, room: Room) -> None:
        async with self._uow.begin() as tx:
            recordings = await tx.recordings.list_in_room(room.id)
            if any(not recording.status.is_final for recording in recordings):
                raise RoomRecordingsUnfinished
            for recording in recordings:
                await self._storage.delete(recording.object_key)
            for recording in recordings:
                await tx.recordings.delete(recording.id)
