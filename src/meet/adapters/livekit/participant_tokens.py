"""Checking a participant's own LiveKit token, presented as a Bearer token to our API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from livekit.api import TokenVerifier

from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.moderation.ports import ParticipantCredentials


class LiveKitParticipantTokenVerifier:
    """Our key and secret, unexpired, joining a named room, with an identity; anything else is refused.

    The leeway is small on purpose (livekit-api's default is a minute): these tokens authorise
    actions on our API, and the servers' clocks are synchronised.
    """

    def __init__(self, *, api_key: str, api_secret: str, leeway: timedelta = timedelta(seconds=5)) -> None:
        self._verifier = TokenVerifier(api_key, api_secret, leeway=leeway)

    def verify(self, token: str) -> ParticipantCredentials:
        try:
            claims = self._verifier.verify(token)
            # Claims carry no expiry; the signature and "exp" were checked just above.
            expiry = jwt.decode(token, options={"verify_signature": False})["exp"]
            expires_at = datetime.fromtimestamp(int(expiry), UTC)
        except Exception as error:  # jwt's errors, ValueError and TypeError from malformed claims alike
            # The reason stays here: telling a caller which check failed helps only someone forging tokens.
            raise InvalidParticipantToken from error
        video = claims.video
        if video is None or not video.room_join or not video.room or not claims.identity:
            raise InvalidParticipantToken
        return ParticipantCredentials(identity=claims.identity, room=video.room, expires_at=expires_at)
