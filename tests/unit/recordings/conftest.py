from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from meet.adapters.memory.egress import MemoryRecordingEgress
from meet.adapters.memory.mailer import MemoryMailer
from meet.adapters.memory.recordings import MemoryRecordingRepository, MemoryRecordingTransactions
from meet.adapters.memory.sfu import MemorySfu
from meet.adapters.memory.storage import MemoryObjectStorage
from meet.domain.conference.sfu import LiveParticipant
from meet.domain.recordings.events import FollowRecordingEgress
from meet.domain.recordings.model import Recording
from meet.domain.recordings.room_deletion import DeleteRoomRecordings
from meet.domain.recordings.use_cases import (
    AuthorizeMediaDownload,
    DeleteRecording,
    GetRecording,
    ListRecordings,
    ReceiveStorageNotification,
    RecordingPolicy,
    StartRecording,
    StopRecording,
)
from meet.domain.rooms.model import Role, Room
from meet.domain.rooms.use_cases import DeleteRoom
from meet.domain.users.model import Viewer
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World, world  # noqa: F401 - re-exported fixture

HOOK_TOKEN = "hook-token-0123456789"


@dataclass
class Studio:
    """A room with an owner, an administrator, a member and a stranger, and every recording use case."""

    world: World
    room: Room
    owner: Viewer
    admin: Viewer
    member: Viewer
    stranger: Viewer
    recordings: MemoryRecordingRepository
    egress: MemoryRecordingEgress
    sfu: MemorySfu
    storage: MemoryObjectStorage
    mailer: MemoryMailer
    clock: FakeClock
    policy: RecordingPolicy
    store: dict[uuid.UUID, Recording]

    def start(self) -> StartRecording:
        w = self.world
        return StartRecording(w.locator(), self.recordings, self.egress, self.sfu, w.uow, self.clock, self.policy)

    def stop(self) -> StopRecording:
        return StopRecording(self.world.locator(), self.recordings, self.egress, self.sfu, self.world.uow)

    def get(self) -> GetRecording:
        return GetRecording(self.world.locator(), self.world.rooms, self.recordings)

    def list(self) -> ListRecordings:
        return ListRecordings(self.recordings)

    def delete(self) -> DeleteRecording:
        w = self.world
        return DeleteRecording(w.locator(), w.rooms, self.recordings, self.storage, w.uow)

    def delete_room(self) -> DeleteRoom:
        w = self.world
        return DeleteRoom(w.locator(), w.rooms, w.uow, DeleteRoomRecordings(self.recordings, self.storage))

    def storage_hook(self) -> ReceiveStorageNotification:
        w = self.world
        return ReceiveStorageNotification(
            self.recordings, w.rooms, w.accesses, w.users, self.mailer, self.sfu, w.uow, self.clock, self.policy
        )

    def media_auth(self) -> AuthorizeMediaDownload:
        w = self.world
        return AuthorizeMediaDownload(w.locator(), w.rooms, self.recordings, self.storage, self.clock)

    def follow_egress(self) -> FollowRecordingEgress:
        return FollowRecordingEgress(MemoryRecordingTransactions(self.world.db, self.store), self.sfu)

    def live(self) -> None:
        """Someone is in the live room, so it has metadata to update."""
        self.sfu.join(self.room.sfu_room_name, LiveParticipant(identity="owner", name="Owner"))


@pytest.fixture
async def studio(world: World) -> Studio:  # noqa: F811
    owner = await world.user("owner", "owner@example.org")
    admin = await world.user("admin", "admin@example.org")
    member = await world.user("member", "member@example.org")
    stranger = await world.user("stranger", "stranger@example.org")
    room = await world.room("Board", owner=Role.OWNER, admin=Role.ADMINISTRATOR, member=Role.MEMBER)
    store: dict[uuid.UUID, Recording] = {}
    return Studio(
        world=world,
        room=room,
        owner=owner,
        admin=admin,
        member=member,
        stranger=stranger,
        recordings=MemoryRecordingRepository(world.db, store),
        egress=MemoryRecordingEgress(),
        sfu=MemorySfu(),
        storage=MemoryObjectStorage(),
        mailer=MemoryMailer(),
        clock=FakeClock(),
        policy=RecordingPolicy(retention_days=7, bucket="meet-media", storage_hook_token=HOOK_TOKEN),
        store=store,
    )
