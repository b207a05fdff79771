"""A user's preferences, and the defaults they give the rooms the user creates."""

from __future__ import annotations

import uuid

import pytest

from meet.domain.rooms.model import AccessLevel, RoomConfiguration, TrackSource
from meet.domain.rooms.preferences import NotYourAccount, UpdatePreferences, UpdatePreferencesRequest
from meet.domain.rooms.use_cases import CreateRoom, CreateRoomRequest
from meet.domain.shared.clock import SystemClock
from meet.domain.shared.errors import AuthenticationRequired, InvalidInput
from meet.domain.users.model import User, VerifiedIdentity, Viewer
from tests.unit.rooms.conftest import World

MICROPHONE_ONLY = RoomConfiguration(can_publish_sources=(TrackSource.MICROPHONE,), everyone_can_mute=False)


async def test_preferences_change_only_what_is_sent(world: World) -> None:
    alice = await world.user("alice")
    update = UpdatePreferences(world.uow)
    await update.execute(UpdatePreferencesRequest(alice, language="FR-fr", timezone="Europe/Paris"))
    profile = await update.execute(UpdatePreferencesRequest(alice, default_room_access_level=AccessLevel.TRUSTED))
    assert (profile.user.language, profile.user.timezone) == ("fr-fr", "Europe/Paris")
    assert profile.room_defaults.access_level is AccessLevel.TRUSTED
    cleared = await update.execute(UpdatePreferencesRequest(alice, timezone=None, default_room_access_level=None))
    assert cleared.user.timezone is None
    assert cleared.room_defaults.access_level is None
    assert cleared.user.language == "fr-fr"


async def test_nobody_changes_anothers_preferences(world: World) -> None:
    alice, bob = await world.user("alice"), await world.user("bob")
    with pytest.raises(NotYourAccount):
        await UpdatePreferences(world.uow).execute(UpdatePreferencesRequest(alice, bob.user_id, language="en"))
    with pytest.raises(AuthenticationRequired):
        await UpdatePreferences(world.uow).execute(UpdatePreferencesRequest(Viewer.anonymous(), language="en"))


@pytest.mark.parametrize(("field", "value"), [("language", "<b>"), ("language", "x" * 40), ("timezone", "Mars/Base")])
async def test_a_malformed_preference_is_refused(world: World, field: str, value: str) -> None:
    alice = await world.user("alice")
    with pytest.raises(InvalidInput) as refused:
        await UpdatePreferences(world.uow).execute(UpdatePreferencesRequest(alice, **{field: value}))  # type: ignore[arg-type]
    assert refused.value.field == field


async def test_the_creators_defaults_fill_in_what_a_creation_leaves_out(world: World) -> None:
    alice = await world.user("alice")
    await UpdatePreferences(world.uow).execute(
        UpdatePreferencesRequest(
            alice, default_room_access_level=AccessLevel.RESTRICTED, default_room_configuration=MICROPHONE_ONLY
        )
    )
    create = CreateRoom(world.uow, SystemClock())
    defaulted = (await create.execute(CreateRoomRequest(alice, "Daily"))).room
    assert (defaulted.access_level, defaulted.configuration) == (AccessLevel.RESTRICTED, MICROPHONE_ONLY)
    explicit = (await create.execute(CreateRoomRequest(alice, "Open", AccessLevel.PUBLIC, RoomConfiguration()))).room
    assert (explicit.access_level, explicit.configuration) == (AccessLevel.PUBLIC, RoomConfiguration())
    bob = await world.user("bob")
    plain = (await create.execute(CreateRoomRequest(bob, "Plain"))).room
    assert plain.access_level is AccessLevel.PUBLIC


def test_the_providers_locale_only_fills_in_a_language_the_user_has_not_chosen() -> None:
    user = User(id=uuid.uuid4(), sub="alice")
    assert user.refresh_from(VerifiedIdentity(sub="alice", language="de"))
    assert user.language == "de"
    user.set_language("fr-fr")
    assert not user.refresh_from(VerifiedIdentity(sub="alice", language="de"))
    assert user.language == "fr-fr"
