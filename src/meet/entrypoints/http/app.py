"""The Litestar application factory. Building the container is separate (providers package)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import AsyncContainer, Provider
from dishka.integrations.litestar import DishkaRouter, setup_dishka
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.types import ControllerRouterHandler

from meet.adapters.redis.client import create_redis
from meet.entrypoints.http.accesses import AccessController
from meet.entrypoints.http.auth import AuthController, DevAuthController
from meet.entrypoints.http.errors import exception_handlers
from meet.entrypoints.http.lobby import LobbyController
from meet.entrypoints.http.participants import ParticipantController
from meet.entrypoints.http.recordings import RecordingController, RoomRecordingController
from meet.entrypoints.http.rooms import RoomController
from meet.entrypoints.http.sessions import RotatingSessionConfig
from meet.entrypoints.http.system import ConfigController, HealthController
from meet.entrypoints.http.users import UserController
from meet.entrypoints.http.webhooks import WebhookController
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings

API_PREFIX = "/api/v1"
SESSION_COOKIE = "meet_session"


def api_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    handlers: list[ControllerRouterHandler] = [
        AuthController,
        UserController,
        RoomController,
        AccessController,
        LobbyController,
        ParticipantController,
        WebhookController,
        ConfigController,
        RoomRecordingController,
        RecordingController,
    ]
    if settings.dev_login_enabled:
        handlers.append(DevAuthController)
    return handlers


def session_store(settings: Settings) -> Store:
    if settings.redis_url:
        # The same client settings as the lobby's: a connection gone stale with a Redis restart is retried.
        return RedisStore(create_redis(settings.redis_url), namespace="meet-sessions", handle_client_shutdown=True)
    return MemoryStore()


def freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the garbage collector's sight.

    Modules, the container, routes and SQLAlchemy's metadata are hundreds of thousands of objects
    that never die; without this, every full collection walks them all and stalls every request the
    worker holds (tens to hundreds of milliseconds: most of the join's p99 under load).
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *providers: Provider, container: AsyncContainer | None = None) -> Litestar:
    """An app on ``settings``; extra ``providers`` override the default adapters (tests use this)."""
    settings = settings.check()
    container = container or make_container(settings, *providers)

    @asynccontextmanager
    async def close_container(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await container.close()

    sessions = RotatingSessionConfig(
        key=SESSION_COOKIE,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    app = Litestar(
        route_handlers=[
            DishkaRouter(API_PREFIX, route_handlers=api_handlers(settings)),
            DishkaRouter("/", route_handlers=[HealthController]),
        ],
        stores={"sessions": session_store(settings)},
        middleware=[sessions.middleware],
        exception_handlers=exception_handlers(),
        lifespan=[close_container],
        on_startup=[freeze_startup_objects],
        openapi_config=OpenAPIConfig(
            title="meet",
            version="0.1.0",
            description="Rooms, scoped LiveKit tokens, a secure lobby, moderation and guarded recordings.",
            path=f"{API_PREFIX}/docs",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
    setup_dishka(container, app)
    return app
