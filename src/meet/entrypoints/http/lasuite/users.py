"""``users/me`` and ``users/{id}/`` (``PUT``/``PATCH``: the user's preferences), shaped as La Suite Meet's."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, get, patch, put
from litestar.params import JSONBody

from meet.domain.rooms.preferences import GetProfile, Profile, UpdatePreferences
from meet.domain.users.model import Viewer
from meet.entrypoints.http.schemas import AccessLevelName, LaSuiteConfigurationBody
from meet.entrypoints.http.users import PreferencesPatch


class LaSuiteUser(msgspec.Struct):
    id: uuid.UUID
    email: str | None
    full_name: str | None
    short_name: str | None
    last_name: str | None
    language: str | None
    timezone: str | None
    default_room_access_level: AccessLevelName | None
    default_room_configuration: LaSuiteConfigurationBody | None

    @classmethod
    def of(cls, profile: Profile) -> LaSuiteUser:
        user, defaults = profile.user, profile.room_defaults
        return cls(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            short_name=user.short_name,
            last_name=None,
            language=user.language,
            timezone=user.timezone,
            default_room_access_level=defaults.access_level.value if defaults.access_level else None,
            default_room_configuration=LaSuiteConfigurationBody.of(defaults.configuration)
            if defaults.configuration
            else None,
        )


class UserUpdate(PreferencesPatch, forbid_unknown_fields=False):
    """What the app sends: its preferences (the PUT also carries ``id``); read-only fields are ignored."""

    id: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class LaSuiteUserController(Controller):
    path = "/users"
    tags = ["La Suite Meet"]

    @get("/me", summary="The signed-in user (401 when signed out)")
    async def me(self, viewer: FromDishka[Viewer], get_profile: FromDishka[GetProfile]) -> LaSuiteUser:
        return LaSuiteUser.of(await get_profile.execute(viewer))

    @put("/{user_id:uuid}", summary="Change one's language and time zone")
    async def put_user(
        self,
        user_id: uuid.UUID,
        data: JSONBody[UserUpdate],
        viewer: FromDishka[Viewer],
        update: FromDishka[UpdatePreferences],
    ) -> LaSuiteUser:
        return LaSuiteUser.of(await update.execute(data.to_request(viewer, user_id)))

    @patch("/{user_id:uuid}", summary="Change one's preferences, the defaults of one's new rooms among them")
    async def patch_user(
        self,
        user_id: uuid.UUID,
        data: JSONBody[UserUpdate],
        viewer: FromDishka[Viewer],
        update: FromDishka[UpdatePreferences],
    ) -> LaSuiteUser:
        return LaSuiteUser.of(await update.execute(data.to_request(viewer, user_id)))
