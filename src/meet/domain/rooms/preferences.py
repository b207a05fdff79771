"""A user's preferences: their language and time zone, and the defaults of the rooms they create."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, replace
from typing import Literal

from meet.domain.rooms.model import AccessLevel, RoomConfiguration, RoomDefaults
from meet.domain.rooms.ports import ProfileReader, RoomUnitOfWork
from meet.domain.shared.errors import AuthenticationRequired, PermissionDenied
from meet.domain.users.model import User, Viewer


class Keep(enum.Enum):
    """Leave this preference as it is (``None`` forgets it)."""

    KEEP = "keep"


KEEP: Literal[Keep.KEEP] = Keep.KEEP


@dataclass(frozen=True, slots=True)
class Profile:
    """A user with their preferences."""

    user: User
    room_defaults: RoomDefaults


class NotYourAccount(PermissionDenied):
    default_message = "You may only change your own account."
    code = "not_your_account"


class GetProfile:
    """The signed-in user and their preferences (401 when anonymous or when the account is gone)."""

    def __init__(self, profiles: ProfileReader) -> None:
        self._profiles = profiles

    async def execute(self, viewer: Viewer) -> Profile:
        found = await self._profiles.profile(viewer.require_user_id())
        if found is None:
            raise AuthenticationRequired  # the session outlived the account
        user, defaults = found
        return Profile(user=user, room_defaults=defaults)


@dataclass(frozen=True, slots=True)
class UpdatePreferencesRequest:
    """``user_id``: the account the caller names (None: their own); ``KEEP`` leaves a preference as it is."""

    viewer: Viewer
    user_id: uuid.UUID | None = None
    language: str | Literal[Keep.KEEP] | None = KEEP
    timezone: str | Literal[Keep.KEEP] | None = KEEP
    default_room_access_level: AccessLevel | Literal[Keep.KEEP] | None = KEEP
    default_room_configuration: RoomConfiguration | Literal[Keep.KEEP] | None = KEEP


class UpdatePreferences:
    """A user changes their own preferences, and nobody else's."""

    def __init__(self, uow: RoomUnitOfWork) -> None:
        self._uow = uow

    async def execute(self, request: UpdatePreferencesRequest) -> Profile:
        me = request.viewer.require_user_id()
        if request.user_id is not None and request.user_id != me:
            raise NotYourAccount
        async with self._uow.begin() as tx:
            user = await tx.users.get(me)
            if user is None:
                raise AuthenticationRequired
            defaults = await tx.room_defaults.get(me)
            if request.language is not KEEP:
                user.set_language(request.language)
            if request.timezone is not KEEP:
                user.set_timezone(request.timezone)
            if request.default_room_access_level is not KEEP:
                defaults = replace(defaults, access_level=request.default_room_access_level)
            if request.default_room_configuration is not KEEP:
                defaults = replace(defaults, configuration=request.default_room_configuration)
            user = await tx.users.update(user)
            await tx.room_defaults.set(me, defaults)
        return Profile(user=user, room_defaults=defaults)
