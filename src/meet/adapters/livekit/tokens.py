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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_HEADER = _b64(msgspec.json.encode({"alg": "HS256", "typ": "JWT"}))


class LiveKitTokenIssuer:
    def __init__(self, *, url: str, api_key: str, api_secret: str, ttl: timedelta) -> None:
        self._url = url
        self._api_key = api_key
        self._api_secret = api_secret
        self._ttl_seconds = int(ttl.total_seconds())
        self._key = api_secret.encode("utf-8")

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig:
        now = int(time.time())
        claims = {
            "name": participant.name,
            "video": video_claim(grants),
            "attributes": participant.attributes,
            "sub": participant.identity,
            "iss": self._api_key,
            "nbf": now,
            "exp": now + self._ttl_seconds,
        }
        return ConnectionConfig(
            url=self._url, room=grants.room, token=self._sign(claims), identity=participant.identity, provider="livekit"
        )

    def _sign(self, claims: dict[str, Any]) -> str:
        """A compact HS256 JWT, as pyjwt writes it (but in UTF-8, not ASCII escapes), minus its per-call key
        checks (done once, here)."""
        payload = _b64(msgspec.json.encode(claims))
        signing_input = f"{_HEADER}.{payload}".encode("ascii")
        signature = hmac.new(self._key, signing_input, hashlib.sha256).digest()
        return f"{_HEADER}.{payload}.{_b64(signature)}"
