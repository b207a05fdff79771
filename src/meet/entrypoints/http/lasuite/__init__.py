"""La Suite Meet's API (``/api/v1.0``): a second primary adapter on meet's use cases, shaped exactly as
La Suite Meet's frontend expects it (paths, trailing slashes, shapes, status codes, cookies, errors).
It translates; every rule stays in the domain."""

from __future__ import annotations

from dishka.integrations.litestar import DishkaRouter

from meet.entrypoints.http.lasuite.auth import LASUITE_PREFIX, LaSuiteAuthController
from meet.entrypoints.http.lasuite.config import LaSuiteConfigController
from meet.entrypoints.http.lasuite.errors import lasuite_exception_handlers
from meet.entrypoints.http.lasuite.lobby import LaSuiteLobbyController
from meet.entrypoints.http.lasuite.moderation import (
    LaSuiteFeaturesOffController,
    LaSuiteModerationController,
    LaSuiteRecordingController,
    LaSuiteUnknownPaths,
)
from meet.entrypoints.http.lasuite.rooms import LaSuiteRoomController
from meet.entrypoints.http.lasuite.users import LaSuiteUserController


def lasuite_router() -> DishkaRouter:
    return DishkaRouter(
        LASUITE_PREFIX,
        route_handlers=[
            LaSuiteConfigController,
            LaSuiteAuthController,
            LaSuiteUserController,
            LaSuiteRoomController,
            LaSuiteLobbyController,
            LaSuiteModerationController,
            LaSuiteRecordingController,
            LaSuiteFeaturesOffController,
            LaSuiteUnknownPaths,
        ],
        exception_handlers=lasuite_exception_handlers(),
        include_in_schema=False,
    )
