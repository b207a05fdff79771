"""The Litestar application factory. Building the container is separate (providers package)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import Provider
from dishka.integrations.litestar import DishkaRouter, setup_dishka
from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.stores.base import Store
from litestar.types import ControllerRouterHandler

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.entrypoints.http.accesses import AccessController
from meet.entrypoints.http.auth import AuthController, DevAuthController
from meet.entrypoints.http.errors import exception_handlers
from meet.entrypoints.http.lobby import LobbyController
from meet.entrypoints.http.observability import MetricsController, RequestObservation
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
SESSION_STORE = "sessions"


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


def freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the garbage collector's sight.

    Modules, the container, routes and SQLAlchemy's metadata are hundreds of thousands of objects
    that never die; without this, every full collection walks them all and stalls every request the
    worker holds (tens to hundreds of milliseconds: most of the join's p99 under load).
    """
    gc.collect()
    gc.freeze()


def build_app(settings: Settings, *providers: Provider) -> Litestar:
    """An app on ``settings`` (already validated); extra ``providers`` override the default adapters (tests)."""
    metrics = PrometheusMetrics()
    container = make_container(settings, *providers, metrics=metrics)

    @asynccontextmanager
    async def run_container(app: Litestar) -> AsyncIterator[None]:
        try:
            # The composition root chose where sessions live; the middleware finds them under this name.
            app.stores.register(SESSION_STORE, await container.get(Store), allow_override=True)
            yield
        finally:
            await container.close()

    sessions = RotatingSessionConfig(
        key=SESSION_COOKIE,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        store=SESSION_STORE,
    )
    app = Litestar(
        route_handlers=[
            DishkaRouter(API_PREFIX, route_handlers=api_handlers(settings)),
            DishkaRouter("/", route_handlers=[HealthController, MetricsController]),
        ],
        middleware=[sessions.middleware],
        exception_handlers=exception_handlers(),
        # Logging is configured once for the process (meet.entrypoints.logs), not replaced by Litestar's.
        logging_config=None,
        lifespan=[run_container],
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
    app.state.metrics = metrics
    app.asgi_handler = RequestObservation(app.asgi_handler, metrics)
    return app
