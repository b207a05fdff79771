"""The hand-built video claim must stay exactly what livekit-api would produce from the same grants."""

from __future__ import annotations

import pytest
from livekit.api.access_token import Claims

from meet.adapters.livekit.tokens import video_claim, video_grants
from meet.domain.conference.model import ParticipantGrants
from meet.domain.rooms.model import DEFAULT_SOURCES, TrackSource


@pytest.mark.parametrize(
    "grants",
    [
        ParticipantGrants(room="r", room_admin=True, publish_sources=DEFAULT_SOURCES),
        ParticipantGrants(room="r", room_admin=False, publish_sources=(TrackSource.MICROPHONE,)),
        ParticipantGrants(room="r", room_admin=False, publish_sources=()),
    ],
)
def test_the_fast_claim_matches_livekit_apis_own(grants: ParticipantGrants) -> None:
    assert video_claim(grants) == Claims(video=video_grants(grants)).asdict()["video"]
