"""LiveKit webhooks: a signed JWT (bare, in ``Authorization``) whose ``sha256`` claim covers the raw body."""

from __future__ import annotations

import base64
import hashlib
import hmac

from google.protobuf.json_format import Parse, ParseError
from livekit.api import TokenVerifier
from livekit.protocol.egress import EgressStatus
from livekit.protocol.webhook import WebhookEvent

from meet.domain.conference.errors import InvalidWebhookSignature, MalformedWebhook
from meet.domain.conference.events import EgressReport, SfuEvent
from meet.domain.rooms.model import SfuRoomName


def _egress_status(value: int) -> str:
    # EGRESS_LIMIT_REACHED -> "limit_reached"
    return EgressStatus.Name(value).removeprefix("EGRESS_").lower()


class LiveKitWebhookVerifier:
    """One event per delivery."""

    provider = "livekit"

    def __init__(self, *, api_key: str, api_secret: str) -> None:
        self._verifier = TokenVerifier(api_key, api_secret)

    def verify(self, body: bytes, authorization: str | None) -> tuple[SfuEvent]:
        return (self.verify_one(body, authorization),)

    def verify_one(self, body: bytes, authorization: str | None) -> SfuEvent:
        token = (authorization or "").strip()
        if not token:
            raise InvalidWebhookSignature
        try:
            claims = self._verifier.verify(token)
            expected = base64.b64decode(claims.sha256 or "")
        except Exception as error:  # the verifier raises jwt's and its own plain exceptions
            raise InvalidWebhookSignature from error
        if not expected or not hmac.compare_digest(hashlib.sha256(body).digest(), expected):
            raise InvalidWebhookSignature
        try:
            event = Parse(body.decode("utf-8"), WebhookEvent(), ignore_unknown_fields=True)
        except (ParseError, UnicodeDecodeError, ValueError) as error:
            raise MalformedWebhook from error
        if not event.event:
            raise MalformedWebhook("The webhook body names no event.")
        return self._translate(event, body)

    @staticmethod
    def _translate(event: WebhookEvent, body: bytes) -> SfuEvent:
        egress = None
        room = event.room.name or None
        if event.HasField("egress_info"):
            info = event.egress_info
            egress = EgressReport(egress_id=info.egress_id, status=_egress_status(info.status), error=info.error)
            room = room or info.room_name or None
        return SfuEvent(
            id=event.id or hashlib.sha256(body).hexdigest(),
            kind=event.event,
            room=SfuRoomName(room) if room else None,
            participant_identity=event.participant.identity or None,
            egress=egress,
        )
