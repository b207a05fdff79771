"""Webhook deliveries signed the way LiveKit signs them: a bare JWT whose sha256 claim covers the body."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from typing import Any

from livekit.api import AccessToken


def signed_delivery(
    event: dict[str, Any], *, api_key: str = "devkey", api_secret: str = "secret", body: bytes | None = None
) -> tuple[bytes, dict[str, str]]:
    payload = body if body is not None else json.dumps({"id": f"EV_{uuid.uuid4().hex}", **event}).encode()
    digest = base64.b64encode(hashlib.sha256(payload).digest()).decode()
    token = AccessToken(api_key, api_secret).with_sha256(digest).to_jwt()
    return payload, {"Authorization": token, "Content-Type": "application/webhook+json"}
