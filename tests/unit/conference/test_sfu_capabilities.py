"""The domain asks the SFU what it can do, and makes up for the rest or refuses, naming what is missing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from meet.adapters.memory.lobby import MemorySeenEvents
from meet.domain.conference.capabilities import SfuCapabilities, SfuCapabilityMissing
from meet.domain.conference.enforcement import EnforcePublishGrants, RemoveImpostors
from meet.domain.conference.errors import WebhookNotExpected
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import LiveParticipant
from meet.domain.conference.webhooks import ReceiveSfuEvent, SfuDelivery
from meet.domain.lobby.model import LobbyEntry, LobbyStatus
from meet.domain.lobby.notify import NotifyAdminsInRoom
from meet.domain.rooms.model import SfuRoomName, TrackSource
from tests.doubles.sfu import MemorySfu, track

EVERYTHING = MemorySfu().capabilities
LIKE_JANUS = SfuCapabilities(
    identity_in_token=False,
    per_source_publish_grants=False,
    server_data_messages=False,
    room_metadata=False,
    participant_attributes=False,
    recording=False,
)
ROOM = "room-1"


def admin(identity: str = "owner") -> LiveParticipant:
    return LiveParticipant(identity=identity, name=identity, attributes={"room_role": "owner"})


def joined(identity: str, *, proven: bool) -> SfuEvent:
    return SfuEvent(
        id=f"ev-{identity}",
        kind="participant_joined",
        room=SfuRoomName(ROOM),
        participant_identity=identity,
        identity_proven=proven,
    )


def test_a_missing_capability_is_refused_by_name() -> None:
    EVERYTHING.require("recording")
    with pytest.raises(SfuCapabilityMissing) as refused:
        LIKE_JANUS.require("recording")
    assert refused.value.field == "recording"
    assert "'recording'" in refused.value.message


async def test_knock_notices_go_as_data_messages_only_where_the_sfu_sends_them() -> None:
    entry = LobbyEntry(participant_id="p1", username="Zoe", color="hsl(1, 50%, 30%)", status=LobbyStatus.WAITING,
                       requested_at=datetime.now(UTC))  # fmt: skip
    for capabilities, expected in ((EVERYTHING, 1), (LIKE_JANUS, 0)):
        sfu = MemorySfu(capabilities)
        sfu.join(ROOM, admin())
        await NotifyAdminsInRoom(sfu).knocked(SfuRoomName(ROOM), [entry])
        assert len(sfu.sent) == expected
    sent = MemorySfu()
    sent.join(ROOM, admin())
    await NotifyAdminsInRoom(sent).knocked(SfuRoomName(ROOM), [entry])
    assert json.loads(sent.sent[0].payload)["participant"]["id"] == "p1"


async def test_an_unproven_identity_is_removed_where_the_sfu_lets_clients_choose_one() -> None:
    sfu = MemorySfu(LIKE_JANUS)
    for identity in ("alice", "owner"):
        sfu.join(ROOM, LiveParticipant(identity=identity, name=identity))
    handler = RemoveImpostors(sfu)
    await handler.handle(joined("alice", proven=True))
    await handler.handle(joined("owner", proven=False))
    await handler.handle(joined("gone-already", proven=False))
    assert set(sfu.rooms[ROOM]) == {"alice"}

    trusting = MemorySfu(EVERYTHING)  # the identity is in the token: nothing to check
    trusting.join(ROOM, LiveParticipant(identity="owner", name="owner"))
    await RemoveImpostors(trusting).handle(joined("owner", proven=False))
    assert set(trusting.rooms[ROOM]) == {"owner"}


async def test_a_source_the_grants_leave_out_is_muted_where_the_sfu_does_not_enforce_them() -> None:
    published = SfuEvent(id="ev", kind="track_published", room=SfuRoomName(ROOM), participant_identity="bob")
    participant = LiveParticipant(
        identity="bob",
        name="Bob",
        tracks=(track("TR_MIC", "microphone"), track("TR_CAM", "camera", kind="video")),
        can_publish=True,
        publish_sources=(TrackSource.MICROPHONE,),
    )
    for capabilities, camera_muted in ((LIKE_JANUS, True), (EVERYTHING, False)):
        sfu = MemorySfu(capabilities)
        sfu.join(ROOM, participant)
        await EnforcePublishGrants(sfu).handle(published)
        muted = {t.source: t.muted for t in sfu.rooms[ROOM]["bob"].tracks}
        assert muted == {"microphone": False, "camera": camera_muted}


@dataclasses.dataclass
class Batch:
    events: Sequence[SfuEvent]
    provider: str = "janus"

    def verify(self, body: bytes, authorization: str | None) -> Sequence[SfuEvent]:  # noqa: ARG002
        return self.events


@dataclasses.dataclass
class Recorder:
    handled: list[str] = dataclasses.field(default_factory=list)

    async def handle(self, event: SfuEvent) -> None:
        self.handled.append(event.id)


async def test_every_event_of_a_delivery_is_handled_once_at_the_right_endpoint_only() -> None:
    recorder = Recorder()
    batch = Batch([joined("a", proven=True), joined("b", proven=True), joined("a", proven=True)])
    receive = ReceiveSfuEvent(batch, MemorySeenEvents(), [recorder])
    events = await receive.execute(SfuDelivery(b"[]", None, provider="janus"))
    assert [e.id for e in events] == ["ev-a", "ev-b", "ev-a"]
    assert recorder.handled == ["ev-a", "ev-b"]
    with pytest.raises(WebhookNotExpected):
        await receive.execute(SfuDelivery(b"{}", None, provider="livekit"))
