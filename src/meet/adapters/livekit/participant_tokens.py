from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from livekit.api import TokenVerifier

from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.moderation.ports import ParticipantCredentials


class LiveKitParticipantTokenVerifier:
    """Checks a participant's own LiveKit token: our key and secret, unexpired, for a room, with an identity."""

    def __init__(self, *, api_key: str, api_secret: str) -> None:
        self._verifier = TokenVerifier(api_key, api_secret, leeway=timedelta(seconds=5))

    def verify(self, token: str) -> ParticipantCredentials:
        try:
            claims = self._verifier.verify(token)
        except Exception as error:  # the verifier raises jwt's errors and plain ValueErrors
            raise InvalidParticipantToken from error
        room = claims.video.room if claims.video else None
        if not room or not claims.identity or not (claims.video and claims.video.room_join):
            raise InvalidParticipantToken
        # The signature and expiry are verified above; this only reads the expiry back.
        expiry = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
        return ParticipantCredentials(
            identity=claims.identity, room=room, expires_at=datetime.fromtimestamp(int(expiry), UTC)
        )
