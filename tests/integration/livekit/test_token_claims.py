"""The hand-built claims must stay what livekit-api would produce from the same grants, and read back alike."""

from __future__ import annotations

from datetime import timedelta

import pytest
from livekit.api import TokenVerifier
from livekit.api.access_token import Claims

from meet.adapters.livekit.tokens import LiveKitTokenIssuer, video_claim, video_grants
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
    assert video_claim(grants) == Claims(video=video_grants(grants)).asdict()["video"]


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
