from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.conference.bars import BarReason
from meet.domain.conference.errors import InvalidParticipantToken
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.sfu import LiveParticipant
from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyTimeouts
from meet.domain.moderation.errors import ForbiddenPermission, NotAllowedToMute, NotPresent, RoleChangeRefused
from meet.domain.moderation.guard import RemoveAgainOnRejoin
from meet.domain.moderation.ports import ParticipantCredentials
from meet.domain.moderation.presence import PresentParticipants
from meet.domain.moderation.use_cases import (
    ChangeParticipant,
    ChangeParticipantRequest,
    ModerationPolicy,
    MuteTrack,
    MuteTrackRequest,
    RemoveParticipant,
    RemoveParticipantRequest,
)
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomConfiguration, RoomRef
from meet.domain.shared.clock import SystemClock
from meet.domain.shared.events import Action
from meet.domain.users.model import Viewer
from tests.doubles.bars import DurableBarsDouble
from tests.doubles.rooms import MemoryAuditLog
from tests.doubles.sfu import MemorySfu, track
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World, world  # noqa: F401 - re-exported fixture


class TableVerifier:
    """Stands in for the SFU token check: token string -> credentials."""

    def __init__(self) -> None:
        self.tokens: dict[str, ParticipantCredentials] = {}

    def issue(self, identity: str, room: str) -> str:
        token = f"token-{identity}-{room}"
        self.tokens[token] = ParticipantCredentials(identity, room, datetime.now(UTC) + timedelta(minutes=5))
        return token

    def verify(self, token: str) -> ParticipantCredentials:
        if token not in self.tokens:
            raise InvalidParticipantToken
        return self.tokens[token]


@dataclass
class Meeting:
    world: World
    room: Room
    sfu: MemorySfu
    verifier: TableVerifier
    owner: Viewer
    member: Viewer


@pytest.fixture
async def meeting(world: World) -> Meeting:  # noqa: F811
    owner, member = await world.user("owner"), await world.user("member")
    room = await world.room("Board", owner=Role.OWNER, member=Role.MEMBER)
    sfu = MemorySfu()
    for viewer, role in ((owner, "owner"), (member, "member")):
        assert viewer.sub is not None
        sfu.join(
            room.sfu_room_name,
            LiveParticipant(
                identity=viewer.sub, name=viewer.sub, attributes={"room_role": role}, tracks=(track("TR_1"),)
            ),
        )
    sfu.join(room.sfu_room_name, LiveParticipant(identity="guest", name="Guest", tracks=(track("TR_G"),)))
    return Meeting(world, room, sfu, TableVerifier(), owner, member)


def mute(meeting: Meeting) -> MuteTrack:
    present = PresentParticipants(meeting.verifier, meeting.sfu)
    return MuteTrack(meeting.world.locator(), meeting.sfu, present, MemoryAuditLog(meeting.world.db), SystemClock())


async def test_admins_mute_with_their_session(meeting: Meeting) -> None:
    await mute(meeting).execute(
        MuteTrackRequest(meeting.owner, RoomRef(str(meeting.room.id)), "guest", "TR_G", bearer=None)
    )
    guest = await meeting.sfu.get_participant(meeting.room.sfu_room_name, "guest")
    assert guest is not None
    assert guest.tracks[0].muted


async def test_a_participant_token_mutes_only_where_everyone_may_and_only_when_present(meeting: Meeting) -> None:
    room, name = meeting.room, meeting.room.sfu_room_name
    guest_token = meeting.verifier.issue("guest", name)
    with pytest.raises(NotAllowedToMute):
        await mute(meeting).execute(
            MuteTrackRequest(Viewer.anonymous(), RoomRef(str(room.id)), "member", "TR_1", bearer=guest_token)
        )
    room.configuration = RoomConfiguration(everyone_can_mute=True)
    await meeting.world.rooms.update(room)
    await mute(meeting).execute(
        MuteTrackRequest(Viewer.anonymous(), RoomRef(str(room.id)), "member", "TR_1", bearer=guest_token)
    )
    with pytest.raises(NotPresent):
        await mute(meeting).execute(
            MuteTrackRequest(
                Viewer.anonymous(),
                RoomRef(str(room.id)),
                "member",
                "TR_1",
                bearer=meeting.verifier.issue("guest", "another-room"),
            )
        )
    with pytest.raises(NotPresent):
        await mute(meeting).execute(
            MuteTrackRequest(
                Viewer.anonymous(), RoomRef(str(room.id)), "member", "TR_1", bearer=meeting.verifier.issue("gone", name)
            )
        )
    with pytest.raises(InvalidParticipantToken):
        await mute(meeting).execute(
            MuteTrackRequest(Viewer.anonymous(), RoomRef(str(room.id)), "member", "TR_1", bearer="forged")
        )


async def test_removal_bars_the_identity_revokes_its_entry_and_removes_it_again_on_rejoin(meeting: Meeting) -> None:
    name = meeting.room.sfu_room_name
    clock, durable = FakeClock(), DurableBarsDouble()
    bars = MemoryRoomBars(durable)
    lobby = MemoryLobbyStore(MemoryLobbyEvents(), bars, MemoryRoomStamps())
    gate = KnockGate("guest", rate_limit=10)
    await lobby.knock(name, LobbyEntry.knock("guest", "Guest", clock.now()), clock.now(), LobbyTimeouts(), gate)
    audit = MemoryAuditLog(meeting.world.db)
    remove = RemoveParticipant(
        meeting.world.locator(), meeting.sfu, bars, lobby, clock, ModerationPolicy(removal_seconds=60), audit
    )
    await remove.execute(RemoveParticipantRequest(meeting.owner, RoomRef(str(meeting.room.id)), "guest"))
    assert audit.actions(meeting.room.id) == [Action.PARTICIPANT_REMOVED]
    assert meeting.world.db.events[0].subject["id"] == "guest"
    assert await meeting.sfu.get_participant(name, "guest") is None
    assert await lobby.touch(name, "guest", clock.now(), LobbyTimeouts()) is None
    assert await bars.barred(name, ["guest"], clock.now())
    assert not await bars.barred(name, ["member"], clock.now())
    assert durable.reasons == {(name, "guest"): BarReason.REMOVED}  # the durable copy, with its reason
    meeting.sfu.join(name, LiveParticipant(identity="guest", name="Guest"))
    await RemoveAgainOnRejoin(bars, meeting.sfu, clock).handle(
        SfuEvent(id="EV_1", kind="participant_joined", room=name, participant_identity="guest")
    )
    assert await meeting.sfu.get_participant(name, "guest") is None


def change(meeting: Meeting) -> ChangeParticipant:
    w = meeting.world
    return ChangeParticipant(w.locator(), meeting.sfu, w.uow, w.stamps, MemoryAuditLog(w.db), SystemClock())


async def test_a_promotion_is_saved_and_applied_live(meeting: Meeting) -> None:
    meeting.room.access_level = AccessLevel.RESTRICTED
    meeting.room.configuration = RoomConfiguration(can_publish_sources=())
    await meeting.world.rooms.update(meeting.room)
    result = await change(meeting).execute(
        ChangeParticipantRequest(meeting.owner, RoomRef(str(meeting.room.id)), "member", role=Role.ADMINISTRATOR)
    )
    assert result.live_updated
    assert result.participant is not None
    assert result.participant.attributes["room_role"] == "administrator"
    assert result.participant.can_publish
    member_id = meeting.member.user_id
    assert member_id is not None
    assert await meeting.world.reader.role_of(meeting.room.id, member_id) is Role.ADMINISTRATOR
    demoted = await change(meeting).execute(
        ChangeParticipantRequest(meeting.owner, RoomRef(str(meeting.room.id)), "member", role=Role.MEMBER)
    )
    assert demoted.participant is not None
    assert not demoted.participant.can_publish
    changes = [event for event in meeting.world.db.events if event.action is Action.PARTICIPANT_ROLE_CHANGED]
    assert [event.details["role"] for event in changes] == ["administrator", "member"]


async def test_role_changes_that_are_never_allowed(meeting: Meeting) -> None:
    use_case, room_id = change(meeting), str(meeting.room.id)
    with pytest.raises(RoleChangeRefused):
        await use_case.execute(ChangeParticipantRequest(meeting.owner, RoomRef(room_id), "member", role=Role.OWNER))
    with pytest.raises(RoleChangeRefused):
        await use_case.execute(ChangeParticipantRequest(meeting.owner, RoomRef(room_id), "owner", role=Role.MEMBER))
    with pytest.raises(ForbiddenPermission):
        await use_case.execute(
            ChangeParticipantRequest(meeting.owner, RoomRef(room_id), "guest", forbidden_permissions=("hidden",))
        )


async def test_a_live_failure_never_loses_the_saved_role(meeting: Meeting) -> None:
    del meeting.sfu.rooms[meeting.room.sfu_room_name]["member"]  # left the live room meanwhile
    result = await change(meeting).execute(
        ChangeParticipantRequest(meeting.owner, RoomRef(str(meeting.room.id)), "member", role=Role.ADMINISTRATOR)
    )
    assert not result.live_updated
    member_id = meeting.member.user_id
    assert member_id is not None
    assert await meeting.world.reader.role_of(meeting.room.id, member_id) is Role.ADMINISTRATOR
