"""What every SFU's token issuer and participant-token verifier must do (LiveKit and Janus alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from meet.adapters.janus.tokens import JanusParticipantTokenVerifier, JanusTokenIssuer, JanusTokens, JanusTokenSigner
from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.conference.ports import TokenIssuer
from meet.domain.moderation.ports import ParticipantTokenVerifier
from meet.domain.rooms.model import Role, SfuRoomName, TrackSource

TTL = timedelta(minutes=10)
SECRET = "a-secret-that-is-long-enough-for-hs256-signing"


@dataclass(frozen=True)
class Tokens:
    provider: str
    issuer: TokenIssuer
    verifier: ParticipantTokenVerifier
    impostor: TokenIssuer  # same SFU, another secret


def janus(secret: str) -> tuple[TokenIssuer, ParticipantTokenVerifier]:
    tokens = JanusTokens(JanusTokenSigner(secret), TTL)
    return JanusTokenIssuer(url="http://janus.test/janus", tokens=tokens), JanusParticipantTokenVerifier(tokens)


def livekit(secret: str) -> tuple[TokenIssuer, ParticipantTokenVerifier]:
    issuer = LiveKitTokenIssuer(url="ws://livekit.test", api_key="key", api_secret=secret, ttl=TTL)
    return issuer, LiveKitParticipantTokenVerifier(api_key="key", api_secret=secret)


@pytest.fixture(params=["livekit", "janus"])
def tokens(request: pytest.FixtureRequest) -> Tokens:
    make = {"livekit": livekit, "janus": janus}[request.param]
    issuer, verifier = make(SECRET)
    impostor, _ = make("another-secret-that-is-long-enough-for-hs256")
    return Tokens(request.param, issuer, verifier, impostor)


ALICE = Participant.build(
    identity="alice-sub", requested_name="Alice", full_name=None, role=Role.MEMBER, is_authenticated=True
)
GRANTS = ParticipantGrants(room=SfuRoomName("room-1"), room_admin=False, publish_sources=(TrackSource.MICROPHONE,))


def test_a_connection_names_its_provider_room_and_identity(tokens: Tokens) -> None:
    connection = tokens.issuer.connection_for(ALICE, GRANTS)
    assert (connection.provider, connection.room, connection.identity) == (tokens.provider, "room-1", "alice-sub")
    assert connection.token
    assert (connection.join_token is not None) == (tokens.provider == "janus")


def test_the_participant_token_proves_identity_and_room(tokens: Tokens) -> None:
    credentials = tokens.verifier.verify(tokens.issuer.connection_for(ALICE, GRANTS).token)
    assert (credentials.identity, credentials.room) == ("alice-sub", "room-1")


def test_a_token_signed_with_another_secret_proves_nothing(tokens: Tokens) -> None:
    with pytest.raises(InvalidParticipantToken):
        tokens.verifier.verify(tokens.impostor.connection_for(ALICE, GRANTS).token)
    with pytest.raises(InvalidParticipantToken):
        tokens.verifier.verify("not a token at all")


def test_a_tampered_token_proves_nothing(tokens: Tokens) -> None:
    token = tokens.issuer.connection_for(ALICE, GRANTS).token
    middle = len(token) // 3  # inside the signed part of either format
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    with pytest.raises(InvalidParticipantToken):
        tokens.verifier.verify(tampered)
