"""Every metric meet exposes, named ``meet_*``, in one registry per application.

Several worker processes (``meet serve --workers N``) share their figures through prometheus-client's
multiprocess mode: ``meet serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the
workers start, each worker writes its values there, and whichever worker answers ``/metrics`` adds them
all up (gauges: the sum over live workers). Without that variable (one process, the tests) each
application keeps its figures in its own registry.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from meet.domain.shared.errors import AuthenticationRequired, BadRequest, InvalidInput, ServiceUnavailable

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The classic text format every Prometheus reads (the server adds the charset).
CONTENT_TYPE = "text/plain; version=0.0.4"

# From 1 ms (a token) to 10 s (a stalled backing service, just above the default timeouts).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(slots=True)
class WebhookDelivery:
    # The delivery's events once verified (Janus sends several at once); until then, an unsigned body
    # names no label value: "unknown".
    events: list[str] = field(default_factory=list)


class PrometheusMetrics:
    """The metric families, and their exposition in Prometheus's text format."""

    def __init__(self) -> None:
        self._multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        # In multiprocess mode the values live in the shared folder, not in a registry.
        registry = None if self._multiprocess else CollectorRegistry(auto_describe=True)
        self._registry = registry
        self._http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.http_requests = Counter(
            "meet_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "meet_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response (event streams: while open).",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.lobby_knocks = Counter(
            "meet_lobby_knocks",
            "Knocks on a lobby: new participants, and participants already known knocking again.",
            ["kind"],
            registry=registry,
        )
        self.lobby_decisions = Counter(
            "meet_lobby_decisions",
            "Admins' decisions on waiting participants (already_decided: a second decision was refused).",
            ["outcome"],
            registry=registry,
        )
        self.lobby_blocks = Counter(
            "meet_lobby_blocks",
            "Blocks of repeated knocking set by a denial one too many, by what is blocked (participant, address).",
            ["subject"],
            registry=registry,
        )
        self.lobby_messages = Counter(
            "meet_lobby_messages",
            "Admins' messages to those waiting, by audience (everyone, participant).",
            ["audience"],
            registry=registry,
        )
        self.lobby_waiting = Gauge(
            "meet_lobby_waiting_participants",
            "Waiting participants holding their decision's event stream open (pollers are not counted).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.event_streams = Gauge(
            "meet_lobby_event_streams",
            "Open lobby event streams, by audience (participant: its decision; admin: the waiting list).",
            ["audience"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.held_polls = Gauge(
            "meet_lasuite_held_polls",
            "La Suite Meet polls held until their state changes, by audience (participant, admin).",
            ["audience"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.room_controls = Counter(
            "meet_room_controls",
            "Admins' controls of a meeting's door: lock, unlock, end, reopen, send_to_lobby.",
            ["control"],
            registry=registry,
        )
        self.door_refusals = Counter(
            "meet_room_door_refusals",
            "Entries the door refused: locked, ended, full, sent_to_lobby.",
            ["reason"],
            registry=registry,
        )
        self.sfu_calls = Counter(
            "meet_sfu_calls",
            "Calls to the SFU's server API, by operation and outcome.",
            ["sfu", "operation", "outcome"],
            registry=registry,
        )
        self.sfu_duration = Histogram(
            "meet_sfu_call_duration_seconds",
            "Duration of the calls to the SFU's server API.",
            ["sfu", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.webhook_events = Counter(
            "meet_webhook_events",
            "Webhook deliveries, by source, event type and outcome.",
            ["source", "event", "outcome"],
            registry=registry,
        )
        self.outbound_webhook_attempts = Counter(
            "meet_outbound_webhook_attempts",
            "Attempts to deliver meet's own webhooks to registered endpoints, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.outbound_webhook_delay = Histogram(
            "meet_outbound_webhook_delay_seconds",
            "Time from a change taking effect to its webhook's delivery.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400),
            registry=registry,
        )
        self.outbound_webhook_endpoints_disabled = Counter(
            "meet_outbound_webhook_endpoints_disabled",
            "Webhook endpoints disabled after failing every retry.",
            registry=registry,
        )
        self.backing_service_errors = Counter(
            "meet_backing_service_errors",
            "Requests answered 503 because a backing service was unreachable, by service.",
            ["service"],
            registry=registry,
        )
        self.token_requests = Counter(
            "meet_oauth_token_requests",
            "Requests to the token endpoints, by grant and outcome (issued, or the OAuth 2.0 error code).",
            ["grant", "outcome"],
            registry=registry,
        )

    # The call observer port (meet.domain.shared.observability.CallObserver), for the SFU adapters.
    def call_ended(self, service: str, operation: str, outcome: str, seconds: float) -> None:
        self.sfu_calls.labels(service, operation, outcome).inc()
        self.sfu_duration.labels(service, operation).observe(seconds)

    def request_ended(self, route: str, method: str, status: int, seconds: float) -> None:
        # On every request: keep each label set's children instead of looking them up (and locking) anew.
        key = (route, method, status)
        children = self._http_children.get(key)
        if children is None:
            children = self._http_children[key] = (
                self.http_requests.labels(route, method, str(status)),
                self.http_duration.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def knocked(self, *, new: bool) -> None:
        self.lobby_knocks.labels("new" if new else "again").inc()

    def decided(self, outcome: str, count: int = 1) -> None:
        if count:
            self.lobby_decisions.labels(outcome).inc(count)

    def knock_refused(self, reason: str) -> None:
        """A knock the gate refused for ``reason`` (``blocked``), counted among the knocks."""
        self.lobby_knocks.labels(reason).inc()

    def blocked(self, subject: str) -> None:
        self.lobby_blocks.labels(subject).inc()

    def messaged(self, audience: str) -> None:
        self.lobby_messages.labels(audience).inc()

    def room_control(self, control: str) -> None:
        self.room_controls.labels(control).inc()

    def door_refused(self, reason: str) -> None:
        self.door_refusals.labels(reason).inc()

    @contextmanager
    def webhook_delivery(self, source: str) -> Iterator[WebhookDelivery]:
        """Count a delivery's events by type once known, and how the delivery ended (the error's kind if it failed)."""
        delivery = WebhookDelivery()
        outcome = "failed"
        try:
            yield delivery
            outcome = "accepted"
        except AuthenticationRequired:
            outcome = "rejected"
            raise
        except (BadRequest, InvalidInput):
            outcome = "malformed"
            raise
        except ServiceUnavailable:
            outcome = "unavailable"
            raise
        finally:
            for event in delivery.events or ["unknown"]:
                self.webhook_events.labels(source, event, outcome).inc()

    def token_request(self, grant: str, outcome: str) -> None:
        self.token_requests.labels(grant, outcome).inc()

    def service_unavailable(self, service: str) -> None:
        self.backing_service_errors.labels(service).inc()

    @asynccontextmanager
    async def admin_stream(self) -> AsyncIterator[None]:
        """Count an admin's waiting-list stream while it is open."""
        streams = self.event_streams.labels("admin")
        streams.inc()
        try:
            yield
        finally:
            streams.dec()

    def held_poll(self, audience: str) -> HeldPollGauge:
        """Count a poll while it is held, waiting for a change (``with``: a town hall's ten thousand answers
        each pass through it, so it is a plain context manager, not a generator)."""
        return HeldPollGauge(self.held_polls.labels(audience))

    def participant_stream(self) -> ParticipantStreamGauge:
        """Count a waiting participant's stream while open; call what it yields once decided."""
        return ParticipantStreamGauge(self.event_streams.labels("participant"), self.lobby_waiting)

    def exposition(self) -> bytes:
        """Every metric in Prometheus's text format (all worker processes together in multiprocess mode)."""
        if self._registry is not None:
            return generate_latest(self._registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


class ParticipantStreamGauge:
    """One participant stream in the gauges (a small object: a town hall holds thousands)."""

    __slots__ = ("_streams", "_waiting", "_waiting_counted")

    def __init__(self, streams: Gauge, waiting: Gauge) -> None:
        self._streams = streams
        self._waiting = waiting
        self._waiting_counted = False

    async def __aenter__(self) -> Callable[[], None]:
        self._streams.inc()
        self._waiting.inc()
        self._waiting_counted = True
        return self.decided

    async def __aexit__(self, *_: object) -> None:
        self.decided()
        self._streams.dec()

    def decided(self) -> None:
        if self._waiting_counted:
            self._waiting_counted = False
            self._waiting.dec()


class HeldPollGauge:
    """A held poll counted from ``__enter__`` to ``__exit__``."""

    __slots__ = ("_gauge",)

    def __init__(self, gauge: Gauge) -> None:
        self._gauge = gauge

    def __enter__(self) -> None:
        self._gauge.inc()

    def __exit__(self, *_: object) -> None:
        self._gauge.dec()
