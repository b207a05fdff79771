"""Events the SFU reports about its rooms (LiveKit webhooks), in the domain's terms.

Delivery is at least once, unordered and lossy: handlers must be idempotent and must
accept events about rooms, participants or egresses they do not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from meet.domain.rooms.model import SfuRoomName


@dataclass(frozen=True, slots=True)
class EgressReport:
    egress_id: str
    status: str  # "starting" | "active" | "ending" | "complete" | "failed" | "aborted" | "limit_reached"
    error: str = ""


@dataclass(frozen=True, slots=True)
class SfuEvent:
    id: str
    kind: str  # the SFU's event name: "room_finished", "participant_joined", "egress_ended", ...
    room: SfuRoomName | None = None
    participant_identity: str | None = None
    egress: EgressReport | None = None
    # False when the SFU cannot vouch that the participant holds a token meet issued to this identity
    # (LiveKit always can: the identity is in the signed token; Janus VideoRoom lets clients pick one).
    identity_proven: bool = True


class SfuEventVerifier(Protocol):
    """Authenticates a webhook request of the SFU named ``provider`` and parses its events (one or more).

    Raise ``InvalidWebhookSignature`` (bad or missing signature) or ``MalformedWebhook``.
    """

    @property
    def provider(self) -> str: ...

    def verify(self, body: bytes, authorization: str | None) -> Sequence[SfuEvent]: ...


class SeenEvents(Protocol):
    """Remembers event ids for a while, so a retried delivery is handled once."""

    async def first_time(self, event_id: str) -> bool: ...

    async def forget(self, event_id: str) -> None:
        """Let a later delivery of the event be handled (its handling failed)."""
        ...


class SfuEventHandler(Protocol):
    async def handle(self, event: SfuEvent) -> None: ...
