import pytest

from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.rooms.model import (
    DEFAULT_SOURCES,
    AccessLevel,
    Role,
    Room,
    RoomConfiguration,
    TrackSource,
    room_slug,
)
from meet.domain.shared.errors import InvalidInput


def test_a_room_slug_derives_from_its_name() -> None:
    assert Room.create("Réunion d'équipe").slug == "reunion-d-equipe"


@pytest.mark.parametrize("name", ["123e4567-e89b-12d3-a456-426614174000", "!!!", "   "])
def test_names_without_a_usable_slug_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        room_slug(name) if name.strip() else Room.create(name)
    assert error.value.field == "name"


@pytest.mark.parametrize(
    ("level", "authenticated", "role", "direct"),
    [
        (AccessLevel.PUBLIC, False, None, True),
        (AccessLevel.TRUSTED, False, None, False),
        (AccessLevel.TRUSTED, True, None, True),
        (AccessLevel.RESTRICTED, True, None, False),
        (AccessLevel.RESTRICTED, True, Role.MEMBER, True),
        (AccessLevel.RESTRICTED, True, Role.OWNER, True),
    ],
)
def test_join_policy(level: AccessLevel, authenticated: bool, role: Role | None, direct: bool) -> None:
    room = Room.create("x", level)
    assert room.lets_in_directly(authenticated=authenticated, role=role) is direct


def test_temporary_rooms_are_public_and_meet_under_their_slug() -> None:
    room = Room.temporary("standup")
    assert room.access_level is AccessLevel.PUBLIC
    assert room.sfu_room_name == "standup"
    assert room.is_temporary


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (None, DEFAULT_SOURCES),
        ((), ()),
        ((TrackSource.MICROPHONE,), (TrackSource.MICROPHONE,)),
    ],
)
def test_members_publish_the_room_sources(
    sources: tuple[TrackSource, ...] | None, expected: tuple[TrackSource, ...]
) -> None:
    room = Room.create("x", configuration=RoomConfiguration(can_publish_sources=sources))
    grants = ParticipantGrants.for_role(room, Role.MEMBER)
    assert grants.publish_sources == expected
    assert grants.can_publish is bool(expected)
    assert not grants.room_admin


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMINISTRATOR])
def test_admins_publish_every_default_source_whatever_the_room_says(role: Role) -> None:
    room = Room.create("x", configuration=RoomConfiguration(can_publish_sources=()))
    grants = ParticipantGrants.for_role(room, role)
    assert grants.room_admin
    assert grants.publish_sources == DEFAULT_SOURCES


def test_participant_name_falls_back_to_full_name_then_anonymous() -> None:
    def name(requested: str | None, full: str | None) -> str:
        return Participant.build(
            identity="i", requested_name=requested, full_name=full, role=None, is_authenticated=False
        ).name

    assert name("Bob", "Robert") == "Bob"
    assert name("  ", "Robert") == "Robert"
    assert name(None, None) == "Anonymous"


def test_participant_attributes_are_strings() -> None:
    participant = Participant.build(
        identity="i", requested_name=None, full_name=None, role=None, is_authenticated=False
    )
    assert participant.attributes == {
        "color": participant.color,
        "room_role": "",
        "is_authenticated": "false",
    }
