"""The hand-built claims must read back, through livekit-api's own verifier, as the grants LiveKit should enforce."""

from __future__ import annotations

from datetime import timedelta

import pytest
from livekit.api import TokenVerifier, VideoGrants

from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.rooms.model import DEFAULT_SOURCES, SfuRoomName, TrackSource


@pytest.mark.parametrize(
    "grants",
    [
        ParticipantGrants(room=SfuRoomName("r"), room_admin=True, publish_sources=DEFAULT_SOURCES),
        ParticipantGrants(room=SfuRoomName("r"), room_admin=False, publish_sources=(TrackSource.MICROPHONE,)),
        ParticipantGrants(room=SfuRoomName("r"), room_admin=False, publish_sources=()),
    ],
)
def test_the_fast_claim_matches_livekit_apis_own(grants: ParticipantGrants) -> None:
    issuer = LiveKitTokenIssuer(
        url="ws://127.0.0.1:7880", api_key="devkey", api_secret="secret", ttl=timedelta(minutes=5)
    )
    participant = Participant(identity="zoe", name="Zoe", color="hsl(1, 50%, 30%)", role=None, is_authenticated=False)
    claims = TokenVerifier("devkey", "secret").verify(issuer.connection_for(participant, grants).token)
    # What LiveKit should enforce, spelt with livekit-api's own type: an empty source list with
    # can_publish=False (LiveKit reads an empty list as "every source"), never a server-wide grant.
    assert claims.video == VideoGrants(
        room_join=True,
        room=grants.room,
        room_admin=grants.room_admin,
        can_publish=bool(grants.publish_sources),
        can_publish_sources=[source.value for source in grants.publish_sources],
        can_subscribe=True,
        can_publish_data=True,
        can_update_own_metadata=False,
    )


def test_a_name_in_any_alphabet_reaches_livekit_as_it_was_given() -> None:
    name = 'Zoë Šťastná 北京 🎉 "quoted" \\'
    issuer = LiveKitTokenIssuer(
        url="ws://127.0.0.1:7880", api_key="devkey", api_secret="secret", ttl=timedelta(minutes=5)
    )
    connection = issuer.connection_for(
        Participant(identity="zoe", name=name, color="hsl(1, 50%, 30%)", role=None, is_authenticated=False),
        ParticipantGrants(room=SfuRoomName("r"), room_admin=False, publish_sources=DEFAULT_SOURCES),
    )
    claims = TokenVerifier("devkey", "secret").verify(connection.token)
    assert claims.video is not None
    assert (claims.name, claims.identity, claims.video.room) == (name, "zoe", "r")
