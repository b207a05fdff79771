from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import msgspec

from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants


def video_claim(grants: ParticipantGrants) -> dict[str, Any]:
    """The neutral grants as the ``video`` claim LiveKit reads (camelCase), built directly: joining is the hot
    path, and livekit-api's generic dataclass-to-claims conversion costs several times the signature itself.

    LiveKit defaults ``canPublish`` to true and reads an empty ``canPublishSources`` as "every source", so a
    participant who may not publish gets ``canPublish: false`` spelled out. Server-wide grants (roomCreate,
    roomList, roomRecord) stay unset.
    """
    return {
        "roomJoin": True,
        "room": grants.room,
        "roomAdmin": grants.room_admin,
        "canPublish": grants.can_publish,
        "canPublishSources": [source.value for source in grants.publish_sources],
        "canSubscribe": grants.can_subscribe,
        "canPublishData": grants.can_publish_data,
        "canUpdateOwnMetadata": False,
    }


VIDEO_CLAIMS_KEPT = 1024  # encoded ``video`` claims, one per distinct set of grants (a room and a role)


def _b64(data: bytes) -> bytes:
    """Base64url without padding, as JWT writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


_HEADER = _b64(msgspec.json.encode({"alg": "HS256", "typ": "JWT"}))


class LiveKitTokenIssuer:
    def __init__(self, *, url: str, api_key: str, api_secret: str, ttl: timedelta) -> None:
        self._url = url
        self._api_key = api_key
        self._api_secret = api_secret
        self._ttl_seconds = int(ttl.total_seconds())
        # Keyed once: each signature copies it rather than deriving the key's pads again.
        self._mac = hmac.new(api_secret.encode("utf-8"), digestmod=hashlib.sha256)
        # Everyone let into a room with the same role has the same grants: their claim is encoded once.
        self._video_claims: dict[ParticipantGrants, msgspec.Raw] = {}

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig:
        now = int(time.time())
        claims = {
            "name": participant.name,
            "video": self._video_claim(grants),
            "attributes": participant.attributes,
            "sub": participant.identity,
            "iss": self._api_key,
            "nbf": now,
            "exp": now + self._ttl_seconds,
        }
        return ConnectionConfig(
            url=self._url, room=grants.room, token=self._sign(claims), identity=participant.identity, provider="livekit"
        )

    def _video_claim(self, grants: ParticipantGrants) -> msgspec.Raw:
        encoded = self._video_claims.get(grants)
        if encoded is None:
            if len(self._video_claims) >= VIDEO_CLAIMS_KEPT:
                self._video_claims.clear()
            encoded = self._video_claims[grants] = msgspec.Raw(msgspec.json.encode(video_claim(grants)))
        return encoded

    def _sign(self, claims: dict[str, Any]) -> str:
        """A compact HS256 JWT, as pyjwt writes it (but in UTF-8, not ASCII escapes), minus its per-call key
        checks (done once, here)."""
        signing_input = _HEADER + b"." + _b64(msgspec.json.encode(claims))
        mac = self._mac.copy()
        mac.update(signing_input)
        return (signing_input + b"." + _b64(mac.digest())).decode("ascii")
