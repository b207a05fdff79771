"""What meet enforces itself on an SFU that cannot (see ``SfuCapabilities``), from the SFU's events."""

from __future__ import annotations

import logging

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import Sfu

logger = logging.getLogger("meet.conference")


class RemoveImpostors:
    """SFU event handler: someone who joined under an identity meet did not issue to them is removed.

    Only matters where the SFU lets a client choose its identity (``identity_in_token`` false): there the
    adapter reports, on each join, whether the identity is proven by a token meet signed for it.
    """

    def __init__(self, sfu: Sfu) -> None:
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        if self._sfu.capabilities.identity_in_token:
            return
        if event.kind != "participant_joined" or event.identity_proven or not event.room:
            return
        if not event.participant_identity:
            return
        logger.warning("removing %r from %s: not the identity meet issued", event.participant_identity, event.room)
        try:
            await self._sfu.remove_participant(event.room, event.participant_identity)
        except ParticipantNotInRoom:
            return


class EnforcePublishGrants:
    """SFU event handler: a track published from a source the participant may not publish is muted.

    Only matters where the SFU does not enforce per-source grants itself (``per_source_publish_grants``
    false); the participant's grants are the ones meet issued (as the SFU reports them).
    """

    def __init__(self, sfu: Sfu) -> None:
        self._sfu = sfu

    async def handle(self, event: SfuEvent) -> None:
        if self._sfu.capabilities.per_source_publish_grants:
            return
        if event.kind != "track_published" or not event.room or not event.participant_identity:
            return
        participant = await self._sfu.get_participant(event.room, event.participant_identity)
        if participant is None:
            return
        allowed = {source.value for source in participant.publish_sources}
        for track in participant.tracks:
            if track.source not in allowed and not track.muted:
                logger.info("muting %s of %s in %s: not granted", track.source, participant.identity, event.room)
                try:
                    await self._sfu.mute_published_track(event.room, participant.identity, track.sid, muted=True)
                except ParticipantNotInRoom:
                    return
