from __future__ import annotations

import uuid

from meet.domain.conference.events import SfuEvent
from meet.domain.shared.clock import Clock
from meet.domain.shared.events import Action, Actor, AuditLog, RoomEvent

LIFECYCLE = {"room_started": Action.ROOM_STARTED, "room_finished": Action.ROOM_FINISHED}


class AnnounceRoomLifecycle:
    """SFU event handler: a registered room's live meeting starting or finishing is told to webhooks
    (``room.started``/``room.finished``; not audited: no one decided it). Temporary rooms, named by a
    slug, are no registered room's and are not told."""

    def __init__(self, audit: AuditLog, clock: Clock) -> None:
        self._audit = audit
        self._clock = clock

    async def handle(self, event: SfuEvent) -> None:
        action = LIFECYCLE.get(event.kind)
        if action is None or not event.room:
            return
        try:
            room_id = uuid.UUID(event.room)
        except ValueError:
            return
        details = {"sfu_event_id": event.id}
        await self._audit.append(RoomEvent(room_id, action, self._clock.now(), Actor.sfu(), details=details))
