"""The sample configuration in ``deploy/janus/`` runs a Janus that meet's adapters work with as shipped."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from meet.adapters.janus.client import JanusAdmin, JanusServer
from meet.adapters.janus.events import JanusEventVerifier
from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusTokenIssuer, JanusTokens, JanusTokenSigner
from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.rooms.model import DEFAULT_SOURCES, SfuRoomName
from tests.support.janus import Janus, plugin_event, start_janus, write_deploy_config
from tests.support.janus_client import JanusParticipant


@pytest.fixture(scope="module")
def deployed() -> Iterator[Janus]:
    with start_janus(write_deploy_config) as janus:
        yield janus


async def test_meet_creates_rooms_admits_participants_and_hears_events_on_the_sample_configuration(
    deployed: Janus,
) -> None:
    tokens = JanusTokens(JanusTokenSigner(deployed.token_secret), timedelta(minutes=5))
    admin = JanusAdmin(
        JanusServer(admin_url=deployed.admin_url, admin_secret=deployed.admin_secret, admin_key=deployed.admin_key)
    )
    sfu = JanusSfu(admin, tokens, room_secret_key=b"deploy-test-room-secret-key")
    room = f"deploy-{uuid.uuid4().hex[:8]}"  # a string id: string_ids is on
    try:
        await sfu.ensure_room(room)
        who = Participant.build(
            identity="ann-sub", requested_name="Ann", full_name=None, role=None, is_authenticated=True
        )
        connection = JanusTokenIssuer(url=deployed.url, tokens=tokens).connection_for(
            who, ParticipantGrants(room=SfuRoomName(room), room_admin=False, publish_sources=DEFAULT_SOURCES)
        )
        async with httpx.AsyncClient(timeout=15, trust_env=False) as http:
            client = JanusParticipant(url=deployed.url, token=connection.token, http=http)
            await client.connect(opaque_id=connection.token)
            await client.join(room, "ann-sub", join_token=connection.join_token)
            assert [p.identity for p in await sfu.list_participants(room)] == ["ann-sub"]
            await client.close()

        raw = deployed.events.wait_for(lambda e: plugin_event(e).get("event") == "joined")
        verifier = JanusEventVerifier(user=deployed.events.user, password=deployed.events.password, tokens=tokens)
        [joined] = verifier.verify(json.dumps(raw).encode(), deployed.events.expected_authorization())
        assert (joined.room, joined.participant_identity, joined.identity_proven) == (room, "ann-sub", True)
        assert deployed.events.rejected == 0
    finally:
        await sfu.destroy_room(room)
        await admin.aclose()
