from __future__ import annotations

import uuid

from meet.domain.conference.events import SfuEvent
from meet.domain.conference.lifecycle import AnnounceRoomLifecycle
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.events import Action, ActorKind
from tests.doubles.rooms import MemoryAuditLog, MemoryDatabase
from tests.support.clock import FakeClock


async def test_a_registered_rooms_start_and_finish_are_told_and_nothing_else() -> None:
    db, room_id = MemoryDatabase(), uuid.uuid4()
    announce = AnnounceRoomLifecycle(MemoryAuditLog(db), FakeClock())
    await announce.handle(SfuEvent(id="EV_1", kind="room_started", room=SfuRoomName(str(room_id))))
    await announce.handle(SfuEvent(id="EV_2", kind="participant_joined", room=SfuRoomName(str(room_id))))
    await announce.handle(SfuEvent(id="EV_3", kind="room_finished", room=SfuRoomName("a-temporary-slug")))
    await announce.handle(SfuEvent(id="EV_4", kind="room_finished", room=SfuRoomName(str(room_id))))
    assert [(event.action, event.room_id) for event in db.events] == [
        (Action.ROOM_STARTED, room_id),
        (Action.ROOM_FINISHED, room_id),
    ]
    assert all(event.actor.kind is ActorKind.SFU for event in db.events)
    assert not any(event.action.is_audited for event in db.events)
