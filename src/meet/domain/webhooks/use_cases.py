"""Webhook use cases: operators register, list, remove endpoints and rotate their secrets; every API
process delivers what the outbox holds."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import NotFound
from meet.domain.webhooks.model import (
    AddressPolicy,
    Delivery,
    EndpointRefused,
    SigningKeys,
    WebhookEndpoint,
    event_types,
    new_secret,
    parse_endpoint_url,
    retry_delay,
    signature_header,
)
from meet.domain.webhooks.ports import (
    HostResolver,
    SendOutcome,
    WebhookEndpoints,
    WebhookOutbox,
    WebhookReporter,
    WebhookSender,
)


class EndpointNotFound(NotFound):
    default_message = "No webhook endpoint has this id."
    code = "webhook_endpoint_not_found"


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    addresses: AddressPolicy = field(default_factory=AddressPolicy)
    rotation_overlap: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(seconds=60)
    batch_size: int = 50


@dataclass(frozen=True, slots=True)
class AddEndpointRequest:
    url: str
    events: Sequence[str]


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once: only its encrypted form is kept


class AddWebhookEndpoint:
    """Register an endpoint for some event types; its address is checked now, and again at each attempt."""

    def __init__(
        self, endpoints: WebhookEndpoints, resolver: HostResolver, policy: WebhookPolicy, clock: Clock
    ) -> None:
        self._endpoints = endpoints
        self._resolver = resolver
        self._policy = policy
        self._clock = clock

    async def execute(self, request: AddEndpointRequest) -> NewEndpoint:
        types = event_types(request.events)
        scheme, host, port = parse_endpoint_url(request.url)
        self._policy.addresses.check(scheme, await self._resolver.resolve(host, port))
        endpoint = WebhookEndpoint(
            id=uuid.uuid4(), url=request.url, event_types=types, enabled=True, created_at=self._clock.now()
        )
        secret = new_secret()
        await self._endpoints.add(endpoint, SigningKeys(current=secret))
        return NewEndpoint(endpoint=endpoint, secret=secret)


class ListWebhookEndpoints:
    def __init__(self, endpoints: WebhookEndpoints) -> None:
        self._endpoints = endpoints

    async def execute(self) -> Sequence[WebhookEndpoint]:
        return await self._endpoints.all()


class RemoveWebhookEndpoint:
    def __init__(self, endpoints: WebhookEndpoints) -> None:
        self._endpoints = endpoints

    async def execute(self, endpoint_id: uuid.UUID) -> None:
        if not await self._endpoints.remove(endpoint_id):
            raise EndpointNotFound


class RotateWebhookSecret:
    """A new secret signs from now on; the old one keeps signing beside it for the overlap, so receivers
    can switch at their pace (each message carries both signatures meanwhile)."""

    def __init__(self, endpoints: WebhookEndpoints, policy: WebhookPolicy, clock: Clock) -> None:
        self._endpoints = endpoints
        self._policy = policy
        self._clock = clock

    async def execute(self, endpoint_id: uuid.UUID) -> str:
        found = await self._endpoints.signing([endpoint_id])
        if endpoint_id not in found:
            raise EndpointNotFound
        _, keys = found[endpoint_id]
        secret = new_secret()
        rotated = SigningKeys(
            current=secret, previous=keys.current, previous_until=self._clock.now() + self._policy.rotation_overlap
        )
        if not await self._endpoints.rotate(endpoint_id, rotated):
            raise EndpointNotFound
        return secret


class DeliverDueWebhooks:
    """Claim a batch of due messages and attempt each once (concurrently); answer how many were claimed.

    Success is any 2xx. A failure is retried on ``RETRY_DELAYS`` with jitter; when the last retry fails
    too, the endpoint is disabled and reported. The address is resolved and checked at every attempt,
    and the connection goes to that checked address (a name that now resolves elsewhere cannot redirect
    the request).
    """

    def __init__(
        self,
        outbox: WebhookOutbox,
        endpoints: WebhookEndpoints,
        resolver: HostResolver,
        sender: WebhookSender,
        reporter: WebhookReporter,
        policy: WebhookPolicy,
        clock: Clock,
    ) -> None:
        self._outbox = outbox
        self._endpoints = endpoints
        self._resolver = resolver
        self._sender = sender
        self._reporter = reporter
        self._policy = policy
        self._clock = clock
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret

    async def execute(self) -> int:
        batch = await self._outbox.claim(self._clock.now(), self._policy.lease, self._policy.batch_size)
        if not batch:
            return 0
        endpoints = await self._endpoints.signing({delivery.endpoint_id for delivery in batch})
        # Endpoints are served side by side, each one's messages one after the other in the order they were
        # claimed (the order they took effect): a receiver sees first attempts in order.
        queues: dict[object, list[Delivery]] = {}
        for delivery in batch:
            queues.setdefault(delivery.endpoint_id, []).append(delivery)

        async def in_order(queue: list[Delivery]) -> list[Delivery]:
            return [d for d in queue if await self._attempt(d, endpoints.get(d.endpoint_id))]

        delivered = await asyncio.gather(*(in_order(queue) for queue in queues.values()))
        # The successes are recorded together: one statement for the batch, not one per message.
        await self._outbox.delivered([d for done in delivered for d in done], self._clock.now())
        return len(batch)

    async def _attempt(self, delivery: Delivery, found: tuple[WebhookEndpoint, SigningKeys] | None) -> bool:
        """Attempt once; record a failure here, and answer whether it was delivered."""
        if found is None:
            await self._outbox.failed(delivery, None, "the endpoint was removed or disabled")
            return False
        endpoint, keys = found
        outcome = await self._send(delivery, endpoint, keys)
        now = self._clock.now()
        self._reporter.attempted(delivery, "delivered" if outcome.ok else "failed", (now - delivery.at).total_seconds())
        if outcome.ok:
            return True
        delay = retry_delay(delivery.attempts, self._rng)
        await self._outbox.failed(delivery, now + delay if delay is not None else None, outcome.detail)
        if delay is None:
            reason = (
                f"{delivery.attempts} attempts failed since {delivery.at:%Y-%m-%d %H:%M} UTC; last: {outcome.detail}"
            )
            await self._endpoints.disable(endpoint.id, reason[:500])
            self._reporter.endpoint_disabled(endpoint, reason)
        return False

    async def _send(self, delivery: Delivery, endpoint: WebhookEndpoint, keys: SigningKeys) -> SendOutcome:
        try:
            scheme, host, port = parse_endpoint_url(endpoint.url)
            addresses = await self._resolver.resolve(host, port)
            self._policy.addresses.check(scheme, addresses)
        except EndpointRefused as refused:
            return SendOutcome(ok=False, detail=refused.message)
        now = self._clock.now()
        timestamp, body, message_id = int(now.timestamp()), delivery.payload.encode(), str(delivery.event_id)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(keys.valid_at(now), message_id, timestamp, body),
        }
        return await self._sender.send(endpoint.url, addresses[0], headers, body)
