from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from meet.domain.conference.errors import WebhookNotExpected
from meet.domain.conference.events import SeenEvents, SfuEvent, SfuEventHandler, SfuEventVerifier

logger = logging.getLogger("meet.webhooks")


@dataclass(frozen=True, slots=True)
class SfuDelivery:
    """One webhook request: the raw body and its ``Authorization`` header, as received, at the endpoint of
    the SFU named ``provider``."""

    body: bytes
    authorization: str | None
    provider: str = "livekit"


class ReceiveSfuEvent:
    """Verify a webhook delivery, handle each event once, and tolerate whatever it is about.

    If a handler fails the event is forgotten again, so the SFU's retry gets another chance.
    """

    def __init__(self, verifier: SfuEventVerifier, seen: SeenEvents, handlers: Sequence[SfuEventHandler]) -> None:
        self._verifier = verifier
        self._seen = seen
        self._handlers = handlers

    async def execute(self, delivery: SfuDelivery) -> Sequence[SfuEvent]:
        """The delivery's events, in order; each handled once (a repeated one is acknowledged, not handled)."""
        if delivery.provider != self._verifier.provider:
            raise WebhookNotExpected(f"This service uses the {self._verifier.provider!r} media server.")
        events = self._verifier.verify(delivery.body, delivery.authorization)
        for event in events:
            await self._handle_once(event)
        return events

    async def _handle_once(self, event: SfuEvent) -> None:
        if not await self._seen.first_time(event.id):
            logger.info("webhook event %s (%s) already handled", event.id, event.kind)
            return
        try:
            for handler in self._handlers:
                await handler.handle(event)
        except BaseException:
            await self._seen.forget(event.id)
            raise
