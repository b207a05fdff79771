"""The Litestar application factory. Building the container is separate (providers package)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dishka import Provider
from dishka.integrations.litestar import DishkaRouter, setup_dishka
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from litestar.stores.base import Store
from litestar.types import ControllerRouterHandler

from meet.adapters.prometheus.metrics import PrometheusMetrics
from meet.domain.applications.bearer import AuthenticateBearer
from meet.domain.audit.use_cases import TrimAudit
from meet.domain.lobby.records import MoveLobbyRecords
from meet.domain.webhooks.use_cases import DeliverDueWebhooks
from meet.entrypoints.background import BackgroundWork, MovingLobbyRecords, running_in_background
from meet.entrypoints.http.accesses import AccessController
from meet.entrypoints.http.audit import AuditController
from meet.entrypoints.http.auth import AuthController, DevAuthController
from meet.entrypoints.http.bearer import AUTHENTICATOR_STATE, SECURITY_SCHEMES, bearer_guard
from meet.entrypoints.http.collector import QuietCollector, running
from meet.entrypoints.http.docs import ASSETS_PATH, DOCS_PATH, SelfHostedSwagger, docs_assets_router
from meet.entrypoints.http.door import DoorController
from meet.entrypoints.http.errors import exception_handlers
from meet.entrypoints.http.event_stream import KeepAlives, StreamHandoff
from meet.entrypoints.http.external_api import (
    EXTERNAL_API_PREFIX,
    ExternalApplicationController,
    ExternalRoomController,
)
from meet.entrypoints.http.frontend import SinglePageApp, content_security_policy
from meet.entrypoints.http.lasuite import lasuite_router
from meet.entrypoints.http.lasuite.auth import LASUITE_PREFIX
from meet.entrypoints.http.lasuite.held import HeldPolls
from meet.entrypoints.http.lobby import CREDENTIAL_COOKIE_PREFIX, LobbyController
from meet.entrypoints.http.oauth import OAuthController
from meet.entrypoints.http.observability import MetricsController, RequestObservation
from meet.entrypoints.http.openapi_truth import TruthfulOpenApiJson, correct_options_allow
from meet.entrypoints.http.participants import ParticipantController
from meet.entrypoints.http.paths import API_PREFIX
from meet.entrypoints.http.protection import BodyGuard, CrossSiteGuard, OriginPolicy, security_headers
from meet.entrypoints.http.recordings import RecordingController, RoomRecordingController
from meet.entrypoints.http.rooms import RoomController
from meet.entrypoints.http.sessions import RotatingSessionConfig
from meet.entrypoints.http.start_hooks import ResponseStartHooks
from meet.entrypoints.http.system import ConfigController, HealthController
from meet.entrypoints.http.users import UserController
from meet.entrypoints.http.webhooks import WebhookController
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings

SESSION_COOKIE = "meet_session"
SESSION_STORE = "sessions"


def api_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    handlers: list[ControllerRouterHandler] = [
        AuthController,
        OAuthController,
        UserController,
        RoomController,
        AccessController,
        AuditController,
        LobbyController,
        DoorController,
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
            app.state[AUTHENTICATOR_STATE] = await container.get(AuthenticateBearer)
            work = BackgroundWork(
                await container.get(DeliverDueWebhooks), await container.get(TrimAudit), settings.webhook_poll_seconds
            )
            moving = MovingLobbyRecords(await container.get(MoveLobbyRecords), settings.lobby_records_poll_seconds)
            async with running(QuietCollector()), running_in_background(work, moving):
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
    routers: list[ControllerRouterHandler] = [
        DishkaRouter(API_PREFIX, route_handlers=api_handlers(settings), guards=[bearer_guard]),
        DishkaRouter(
            EXTERNAL_API_PREFIX,
            route_handlers=[ExternalApplicationController, ExternalRoomController],
            guards=[bearer_guard],
        ),
        DishkaRouter("/", route_handlers=[HealthController, MetricsController]),
        docs_assets_router(),
    ]
    if settings.lasuite_api:
        routers.append(lasuite_router())
    app = Litestar(
        route_handlers=routers,
        middleware=[
            DefineMiddleware(
                CrossSiteGuard,
                policy=OriginPolicy.of(
                    settings.public_url,
                    settings.trusted_origin_list,
                    cookie_names=[SESSION_COOKIE],
                    cookie_prefixes=[CREDENTIAL_COOKIE_PREFIX],
                ),
            ),
            DefineMiddleware(BodyGuard),
            sessions.middleware,
        ],
        cors_config=cors_config(settings),
        exception_handlers=exception_handlers(),
        # Logging is configured once for the process (meet.entrypoints.logs), not replaced by Litestar's.
        logging_config=None,
        lifespan=[run_container],
        on_startup=[freeze_startup_objects],
        openapi_config=OpenAPIConfig(
            title="meet",
            version="0.1.0",
            description="Rooms, scoped LiveKit tokens, a secure lobby, moderation and guarded recordings.",
            path=DOCS_PATH,
            render_plugins=[SelfHostedSwagger(), TruthfulOpenApiJson()],
            components=Components(security_schemes=SECURITY_SCHEMES),
        ),
        debug=False,
    )
    setup_dishka(container, app)
    app.state.metrics = metrics
    routed = app.asgi_handler
    if settings.frontend_dir:
        routed = SinglePageApp(
            routed,
            settings.frontend_dir,
            csp=content_security_policy([settings.livekit_browser_url]),
            reserved_paths={route.path for route in app.routes},
        )
    headed = ResponseStartHooks(routed, [security_headers(DOCS_PATH, ASSETS_PATH), correct_options_allow])
    # Outermost: a stream's body is sent once everything beneath, its observation included, has returned.
    app.asgi_handler = StreamHandoff(RequestObservation(headed, metrics), KeepAlives(settings.lobby_keepalive_seconds))
    if settings.lasuite_api:
        # Outside even that: a held poll of La Suite's lobby waits once every layer has returned.
        app.asgi_handler = HeldPolls(app.asgi_handler, LASUITE_PREFIX)
    return app


def cors_config(settings: Settings) -> CORSConfig | None:
    """Off unless ``MEET_CORS_ORIGINS`` names the origins of a frontend served elsewhere."""
    origins = settings.cors_origin_list
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "X-Lobby-Credential", "Authorization"],
        allow_credentials=True,
        max_age=600,
    )
