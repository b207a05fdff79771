"""``LiveKitParticipantTokenVerifier``: a participant's own LiveKit token, as our token issuer makes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from livekit.api import AccessToken, VideoGrants

from meet.adapters.livekit.participant_tokens import LiveKitParticipantTokenVerifier
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.rooms.model import DEFAULT_SOURCES, SfuRoomName

KEY, SECRET, ROOM = "devkey", "secret", "room-1"
verifier = LiveKitParticipantTokenVerifier(api_key=KEY, api_secret=SECRET)


def participant_token(
    *,
    key: str = KEY,
    secret: str = SECRET,
    grants: VideoGrants | None = None,
    ttl: timedelta = timedelta(minutes=5),
) -> str:
    token = AccessToken(key, secret).with_identity("alice").with_ttl(ttl)
    return token.with_grants(grants or VideoGrants(room_join=True, room=ROOM)).to_jwt()


def hand_made(**claims: object) -> str:
    """Correctly signed, but with claims livekit-api's AccessToken refuses to produce."""
    expiry = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
    return jwt.encode({"iss": KEY, "exp": expiry, **claims}, SECRET, algorithm="HS256")


def test_a_token_from_our_issuer_names_its_holder_room_and_expiry() -> None:
    issuer = LiveKitTokenIssuer(url="ws://127.0.0.1:7880", api_key=KEY, api_secret=SECRET, ttl=timedelta(minutes=10))
    connection = issuer.connection_for(
        Participant(identity="alice", name="Alice", color="#123456", role=None, is_authenticated=False),
        ParticipantGrants(room=SfuRoomName(ROOM), room_admin=False, publish_sources=DEFAULT_SOURCES),
    )
    credentials = verifier.verify(connection.token)
    assert (credentials.identity, credentials.room) == ("alice", ROOM)
    expected = jwt.decode(connection.token, options={"verify_signature": False})["exp"]
    assert credentials.expires_at == datetime.fromtimestamp(expected, UTC)
    assert credentials.expires_at.tzinfo is UTC


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(participant_token(secret="another-secret"), id="wrong secret"),
        pytest.param(participant_token(key="another-key"), id="another api key"),
        pytest.param(participant_token(ttl=timedelta(minutes=-1)), id="expired"),
        pytest.param(hand_made(sub="alice", video={"roomJoin": True}), id="no room"),
        pytest.param(hand_made(sub="alice", video={"roomJoin": True, "room": ""}), id="empty room"),
        pytest.param(hand_made(video={"roomJoin": True, "room": ROOM}), id="no identity"),
        pytest.param(participant_token(grants=VideoGrants(room_admin=True, room=ROOM)), id="admin api token, no join"),
        pytest.param("not.a.jwt", id="garbage"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_tokens_are_refused_without_saying_why(bad: str) -> None:
    with pytest.raises(InvalidParticipantToken) as raised:
        verifier.verify(bad)
    assert raised.value.message == InvalidParticipantToken.default_message


def test_an_unsigned_token_is_refused() -> None:
    claims = {"iss": KEY, "sub": "alice", "exp": 4102444800, "video": {"roomJoin": True, "room": ROOM}}
    unsigned = jwt.encode(claims, key="", algorithm="none")
    with pytest.raises(InvalidParticipantToken):
        verifier.verify(unsigned)


def test_a_token_without_expiry_is_refused() -> None:
    claims = {"iss": KEY, "sub": "alice", "video": {"roomJoin": True, "room": ROOM}}
    with pytest.raises(InvalidParticipantToken):
        verifier.verify(jwt.encode(claims, SECRET, algorithm="HS256"))


def test_the_leeway_is_seconds_not_minutes() -> None:
    just_expired = participant_token(ttl=timedelta(seconds=-1))
    assert verifier.verify(just_expired).identity == "alice"  # within the small leeway for clock skew
    with pytest.raises(InvalidParticipantToken):
        verifier.verify(participant_token(ttl=timedelta(seconds=-30)))  # livekit-api's default would accept it
