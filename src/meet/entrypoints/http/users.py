from __future__ import annotations

import uuid
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, get, patch
from litestar.params import JSONBody

from meet.domain.rooms.model import AccessLevel
from meet.domain.rooms.preferences import (
    KEEP,
    GetProfile,
    Profile,
    UpdatePreferences,
    UpdatePreferencesRequest,
)
from meet.domain.users.model import User, Viewer
from meet.entrypoints.http.schemas import AccessLevelName, ConfigurationBody


class UserOut(msgspec.Struct):
    id: uuid.UUID
    sub: str
    email: str | None
    full_name: str | None
    short_name: str | None
    language: str | None
    timezone: str | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            sub=user.sub,
            email=user.email,
            full_name=user.full_name,
            short_name=user.short_name,
            language=user.language,
            timezone=user.timezone,
        )


class ProfileOut(msgspec.Struct):
    """The signed-in user with their preferences."""

    id: uuid.UUID
    sub: str
    email: str | None
    full_name: str | None
    short_name: str | None
    language: str | None
    timezone: str | None
    default_room_access_level: AccessLevelName | None
    default_room_configuration: ConfigurationBody | None

    @classmethod
    def of(cls, profile: Profile) -> ProfileOut:
        user, defaults = profile.user, profile.room_defaults
        return cls(
            id=user.id,
            sub=user.sub,
            email=user.email,
            full_name=user.full_name,
            short_name=user.short_name,
            language=user.language,
            timezone=user.timezone,
            default_room_access_level=defaults.access_level.value if defaults.access_level else None,
            default_room_configuration=ConfigurationBody.of(defaults.configuration) if defaults.configuration else None,
        )


# What the domain accepts, said in the schema too (``valid_language``, ``valid_timezone``).
Language = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,2}$")]
if TYPE_CHECKING:
    TimeZone = str
else:
    TimeZone = Literal[tuple(sorted(zoneinfo.available_timezones() | {"UTC"}))]


class PreferencesPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields sent change; ``null`` forgets a preference."""

    language: Language | msgspec.UnsetType | None = msgspec.UNSET
    timezone: TimeZone | msgspec.UnsetType | None = msgspec.UNSET
    default_room_access_level: AccessLevelName | msgspec.UnsetType | None = msgspec.UNSET
    default_room_configuration: ConfigurationBody | msgspec.UnsetType | None = msgspec.UNSET

    def to_request(self, viewer: Viewer, user_id: uuid.UUID | None = None) -> UpdatePreferencesRequest:
        level, configuration = self.default_room_access_level, self.default_room_configuration
        return UpdatePreferencesRequest(
            viewer,
            user_id,
            language=KEEP if self.language is msgspec.UNSET else self.language,
            timezone=KEEP if self.timezone is msgspec.UNSET else self.timezone,
            default_room_access_level=KEEP if level is msgspec.UNSET else AccessLevel(level) if level else None,
            default_room_configuration=KEEP
            if configuration is msgspec.UNSET
            else configuration.to_domain()
            if configuration
            else None,
        )


class UserController(Controller):
    path = "/users"
    tags = ["users"]

    @get("/me", summary="The signed-in user and their preferences (401 when anonymous)")
    async def me(self, viewer: FromDishka[Viewer], get_profile: FromDishka[GetProfile]) -> ProfileOut:
        return ProfileOut.of(await get_profile.execute(viewer))

    @patch(
        "/me",
        summary="Change one's preferences: language, time zone, and the defaults of the rooms one creates",
    )
    async def update_me(
        self, data: JSONBody[PreferencesPatch], viewer: FromDishka[Viewer], update: FromDishka[UpdatePreferences]
    ) -> ProfileOut:
        return ProfileOut.of(await update.execute(data.to_request(viewer)))
