"""The hand-built claims must read back, through livekit-api's own verifier, as the grants LiveKit should enforce."""

from __future__ import annotations

from datetime import timedelta

import pytest
from livekit.api import TokenVerifier, VideoGrants

from meet.adapters.livekit import tokens as tokens_module
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


def test_one_issuer_gives_each_participant_their_own_grants_whatever_it_issued_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tokens_module, "VIDEO_CLAIMS_KEPT", 2)  # the encoded claims it keeps are bounded
    issuer = LiveKitTokenIssuer(
        url="ws://127.0.0.1:7880", api_key="devkey", api_secret="secret", ttl=timedelta(minutes=5)
    )
    verifier = TokenVerifier("devkey", "secret")
    participant = Participant(identity="zoe", name="Zoe", color="hsl(1, 50%, 30%)", role=None, is_authenticated=False)
    issued = [
        ParticipantGrants(room=SfuRoomName(room), room_admin=admin, publish_sources=sources)
        for room in ("first", "second", "third")
        for admin, sources in ((True, DEFAULT_SOURCES), (False, (TrackSource.MICROPHONE,)), (False, ()))
    ]
    for grants in issued * 2:
        video = verifier.verify(issuer.connection_for(participant, grants).token).video
        assert video is not None
        assert (video.room, video.room_admin, video.can_publish_sources) == (
            grants.room,
            grants.room_admin,
            [source.value for source in grants.publish_sources],
        )
