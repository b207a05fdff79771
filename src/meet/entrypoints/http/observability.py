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
    """Around the whole app but the stream handoff, so 404s, 405s and errors are seen too.

    Every response carries ``X-Request-ID`` (the client's own when well-formed), every log line written
    while serving the request carries it as ``request_id``, and the request is counted by its route
    template (``/api/v1/rooms/{id_or_slug}``; ``unmatched`` when no route matched, so scanners cannot
    create label values), method and status. An event stream is observed until its start: its body is
    sent by ``StreamHandoff``, outside (so its duration is the time to its first byte, not its life).
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
        observed = _ObservedSend(send, (REQUEST_ID_HEADER.encode(), identifier.encode()))
        started = time.perf_counter()
        token = request_id.set(identifier)
        try:
            await self._app(scope, receive, observed)
        finally:
            request_id.reset(token)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = scope.get("path_template") or "unmatched"
            self._metrics.request_ended(route, method, observed.status, time.perf_counter() - started)


class _ObservedSend:
    """Adds the request id to the response start and remembers its status (500 until one is sent)."""

    __slots__ = ("_header", "_send", "status")

    def __init__(self, send: Send, header: tuple[bytes, bytes]) -> None:
        self._send = send
        self._header = header
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), self._header]
        await self._send(message)


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
