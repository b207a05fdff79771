"""Janus's HTTP event handler (``janus.eventhandler.sampleevh``) as meet's SFU events.

Janus posts one JSON event, or an array of them (``grouping``), with HTTP basic auth (``backend_user`` /
``backend_pwd``). Events carry no id, so each one's id is the SHA-256 of its canonical JSON (the
timestamp in microseconds makes it unique; a retransmission repeats it byte for byte).

VideoRoom's ``joined`` event names the room and the id the client asked for, and the top level names
the handle's ``opaque_id``: meet's clients attach with their core token as ``opaque_id``, so the event
says whether the id was issued by meet to this handle (``identity_proven``). Janus itself binds no
identity to a token: an unproven join is an impostor, and a domain handler removes it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from meet.adapters.janus.tokens import JanusTokens
from meet.domain.conference.errors import InvalidWebhookSignature, MalformedWebhook
from meet.domain.conference.events import SfuEvent
from meet.domain.rooms.model import SfuRoomName

PLUGIN_EVENT = 64
VIDEOROOM = "janus.plugin.videoroom"
# VideoRoom's event names, in meet's (LiveKit's) vocabulary where one exists.
_KINDS = {
    "joined": "participant_joined",
    "leaving": "participant_left",
    "kicked": "participant_left",
    "configured": "track_published",
    "published": "track_published",
    "destroyed": "room_finished",
}


class JanusEventVerifier:
    """Checks the basic-auth credentials of a delivery (constant time) and translates its events."""

    provider = "janus"

    def __init__(self, *, user: str, password: str, tokens: JanusTokens) -> None:
        if not password:
            raise ValueError("the Janus event handler password is empty")
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._expected = f"Basic {credentials}".encode()
        self._tokens = tokens

    def _authenticate(self, authorization: str | None) -> None:
        if not hmac.compare_digest((authorization or "").strip().encode(), self._expected):
            raise InvalidWebhookSignature

    def verify(self, body: bytes, authorization: str | None) -> Sequence[SfuEvent]:
        """Every event of a delivery that meet cares about, in Janus's order."""
        self._authenticate(authorization)
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedWebhook from error
        batch = parsed if isinstance(parsed, list) else [parsed]
        if not batch or not all(isinstance(item, dict) for item in batch):
            raise MalformedWebhook("The event handler's body is not a JSON object or an array of them.")
        return tuple(event for item in batch if (event := self._translate(item)) is not None)

    def _translate(self, item: Mapping[str, Any]) -> SfuEvent | None:
        if item.get("type") != PLUGIN_EVENT:
            return None
        event = item.get("event")
        if not isinstance(event, dict) or event.get("plugin") != VIDEOROOM or not isinstance(event.get("data"), dict):
            return None
        data: dict[str, Any] = event["data"]
        kind = _KINDS.get(str(data.get("event")))
        room = data.get("room")
        if kind is None or not isinstance(room, str):
            return None
        identity = data.get("id")
        identity = str(identity) if isinstance(identity, str | int) and identity != "" else None
        return SfuEvent(
            id=hashlib.sha256(json.dumps(item, sort_keys=True, separators=(",", ":")).encode()).hexdigest(),
            kind=kind,
            room=SfuRoomName(room),
            participant_identity=identity,
            identity_proven=self._proven(item.get("opaque_id"), room, identity),
        )

    def _proven(self, opaque_id: object, room: str, identity: str | None) -> bool:
        """The handle carries a participant token meet signed for this room and this identity."""
        if not isinstance(opaque_id, str) or identity is None:
            return False
        try:
            # Janus checked the token's expiry when the client used it; the event may come later.
            claims = self._tokens.claims(opaque_id, check_expiry=False)
        except (ValueError, binascii.Error):
            return False
        return hmac.compare_digest(claims.room.encode(), room.encode()) and hmac.compare_digest(
            claims.identity.encode(), identity.encode()
        )
