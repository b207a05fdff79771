from __future__ import annotations

import logging

from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu
from meet.domain.recordings.model import recording_event
from meet.domain.recordings.ports import RecordingUnitOfWork
from meet.domain.recordings.status import publish_live_metadata
from meet.domain.shared.clock import Clock
from meet.domain.shared.events import Actor

logger = logging.getLogger("meet.recordings")

EGRESS_EVENTS = frozenset({"egress_started", "egress_updated", "egress_ended"})


class FollowRecordingEgress:
    """SFU event handler: egress events move their recording through its states and keep the live
    room's ``recording_status`` current.

    Events for egresses no recording knows (another service's, or a recording deleted since) are
    ignored; a repeated or late event never moves a recording backwards (``Recording.egress_reported``).
    """

    def __init__(self, uow: RecordingUnitOfWork, sfu: Sfu, clock: Clock) -> None:
        self._uow = uow
        self._sfu = sfu
        self._clock = clock

    async def handle(self, event: SfuEvent) -> None:
        if event.kind not in EGRESS_EVENTS or event.egress is None or not event.egress.egress_id:
            return
        report = event.egress
        async with self._uow.begin() as tx:
            recording = await tx.recordings.get_by_egress_id(report.egress_id)
            if recording is None:
                logger.info("egress %s (%s) belongs to no recording", report.egress_id, report.status)
                return
            if not recording.egress_reported(report.status):
                return
            if report.error:
                logger.warning("egress %s of recording %s: %s", report.egress_id, recording.id, report.error)
            await tx.recordings.update(recording)
            changed = recording_event(recording, None, Actor.sfu(), self._clock.now())
            if changed is not None:
                await tx.audit.append(changed)
            room = await tx.rooms.get(recording.room_id)
        if room is not None:
            await publish_live_metadata(self._sfu, room, recording)
