"""Request ids and HTTP metrics for every answer, and the ``/metrics`` endpoint."""

from __future__ import annotations

import hmac
import time
from typing import Any

from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from meet.adapters.prometheus.metrics import CONTENT_TYPE, PrometheusMetrics
from meet.entrypoints.logs import accepted_request_id, request_id
from meet.entrypoints.settings import Profile, Settings

REQUEST_ID_HEADER = "x-request-id"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestObservation:
    """The outermost layer of the app, so 404s, 405s and errors are seen too.

    Every response carries ``X-Request-ID`` (the client's own when well-formed), every log line written
    while serving the request carries it as ``request_id``, and the request is counted by its route
    template (``/api/v1/rooms/{id_or_slug}``; ``unmatched`` when no route matched, so scanners cannot
    create label values), method and status.
    """

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        incoming = next((value for name, value in scope["headers"] if name == b"x-request-id"), None)
        identifier = accepted_request_id(incoming.decode("latin-1") if incoming is not None else None)
        header = (REQUEST_ID_HEADER.encode(), identifier.encode())
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        token = request_id.set(identifier)
        try:
            await self._app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = scope.get("path_template") or "unmatched"
            self._metrics.request_ended(route, method, status, time.perf_counter() - started)


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get("/", summary="Prometheus metrics")
    async def metrics(
        self,
        request: Request[Any, Any, Any],
        settings: FromDishka[Settings],
        metrics: FromDishka[PrometheusMetrics],
    ) -> Response[bytes]:
        """Bearer ``MEET_METRICS_TOKEN`` when set; without it, open in development and absent in production."""
        if settings.metrics_token:
            presented = request.headers.get("authorization", "")
            expected = f"Bearer {settings.metrics_token}"
            if not hmac.compare_digest(presented.encode(), expected.encode()):
                raise NotAuthorizedException("The metrics need the bearer token MEET_METRICS_TOKEN.")
        elif settings.profile is Profile.PRODUCTION:
            raise NotFoundException("Set MEET_METRICS_TOKEN to expose the metrics.")
        return Response(metrics.exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
