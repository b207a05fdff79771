from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from meet.domain.recordings.model import Recording
from meet.domain.rooms.ports import RoomAccessRepository, RoomRepository
from meet.domain.shared.events import AuditLog
from meet.domain.users.ports import UserRepository


class RecordingReader(Protocol):
    """Read model of recordings, outside any transaction."""

    async def recording(self, recording_id: uuid.UUID) -> Recording | None: ...

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None: ...

    async def administered_by(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[Recording], int]:
        """Recordings of the rooms the user owns or administers, newest first, with the total count."""
        ...


class RecordingRepository(Protocol):
    """Recordings inside a transaction. At most one recording per room is ongoing (initiated or active):
    ``add`` raises ``RecordingInProgress`` for a second one, atomically (concurrent starts included)."""

    async def get(self, recording_id: uuid.UUID) -> Recording | None: ...

    async def get_by_egress_id(self, egress_id: str) -> Recording | None: ...

    async def ongoing_in_room(self, room_id: uuid.UUID) -> Recording | None: ...

    async def add(self, recording: Recording) -> Recording: ...

    async def update(self, recording: Recording) -> Recording: ...

    async def delete(self, recording_id: uuid.UUID) -> None: ...

    async def list_in_room(self, room_id: uuid.UUID) -> Sequence[Recording]:
        """Every recording of the room, in any state."""
        ...


class ObjectStorage(Protocol):
    """The bucket recordings are written to. Raise ``StorageUnavailable`` when it cannot be reached,
    ``StorageRequestFailed`` when it refuses."""

    async def delete(self, key: str) -> None:
        """Delete the object; deleting one that does not exist is not an error."""
        ...

    def signed_get_headers(self, key: str) -> dict[str, str]:
        """Headers that authorise one plain GET of ``key`` (S3 SigV4: ``Authorization``, ``X-Amz-Date``,
        ``X-Amz-Content-SHA256``) for the proxy in front of storage to forward; empty when the proxy
        serves the object itself (a local folder). Computed locally, no request is made."""
        ...


class Mailer(Protocol):
    """Sends a plain-text email. Raise ``ServiceUnavailable`` when the mail server cannot be reached."""

    async def send(self, to: str, subject: str, body: str) -> None: ...


class RecordingTransaction(Protocol):
    @property
    def audit(self) -> AuditLog: ...

    @property
    def recordings(self) -> RecordingRepository: ...

    @property
    def rooms(self) -> RoomRepository: ...

    @property
    def accesses(self) -> RoomAccessRepository: ...

    @property
    def users(self) -> UserRepository: ...


class RecordingUnitOfWork(Protocol):
    """Opens a transaction: its changes are committed when the block ends, rolled back when it raises."""

    def begin(self) -> AbstractAsyncContextManager[RecordingTransaction]: ...
