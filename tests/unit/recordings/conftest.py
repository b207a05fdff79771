from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from meet.domain.conference.sfu import LiveParticipant
from meet.domain.recordings.events import FollowRecordingEgress
from meet.domain.recordings.model import Recording
from meet.domain.recordings.room_deletion import DeleteRoomRecordings
from meet.domain.recordings.use_cases import (
    AdministeredRecordings,
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
from tests.doubles.egress import MemoryRecordingEgress
from tests.doubles.mailer import MemoryMailer
from tests.doubles.rooms import MemoryAuditLog, MemoryRecordingRepository
from tests.doubles.sfu import MemorySfu
from tests.doubles.storage import MemoryObjectStorage
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
        return StartRecording(w.locator(), self.egress, self.sfu, w.uow, self.clock, self.policy)

    def stop(self) -> StopRecording:
        w = self.world
        return StopRecording(w.locator(), w.reader, self.egress, self.sfu, w.uow, self.clock)

    def administered(self) -> AdministeredRecordings:
        return AdministeredRecordings(self.world.reader, self.world.reader)

    def get(self) -> GetRecording:
        return GetRecording(self.administered())

    def list(self) -> ListRecordings:
        return ListRecordings(self.world.reader)

    def delete(self) -> DeleteRecording:
        return DeleteRecording(self.administered(), self.storage, self.world.uow)

    def delete_room(self) -> DeleteRoom:
        w = self.world
        return DeleteRoom(
            w.locator(), w.uow, w.stamps, DeleteRoomRecordings(w.uow, self.storage, self.clock), self.clock
        )

    def storage_hook(self) -> ReceiveStorageNotification:
        return ReceiveStorageNotification(self.world.uow, self.mailer, self.sfu, self.clock, self.policy)

    def media_auth(self) -> AuthorizeMediaDownload:
        return AuthorizeMediaDownload(
            self.world.reader, self.administered(), self.storage, self.clock, MemoryAuditLog(self.world.db)
        )

    def follow_egress(self) -> FollowRecordingEgress:
        return FollowRecordingEgress(self.world.uow, self.sfu, self.clock)

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
    store = world.db.recordings
    return Studio(
        world=world,
        room=room,
        owner=owner,
        admin=admin,
        member=member,
        stranger=stranger,
        recordings=MemoryRecordingRepository(world.db),
        egress=MemoryRecordingEgress(),
        sfu=MemorySfu(),
        storage=MemoryObjectStorage(),
        mailer=MemoryMailer(),
        clock=FakeClock(),
        policy=RecordingPolicy(retention_days=7, bucket="meet-media", storage_hook_token=HOOK_TOKEN),
        store=store,
    )
