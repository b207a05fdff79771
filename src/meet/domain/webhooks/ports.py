from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from meet.domain.webhooks.model import Delivery, IpAddress, SigningKeys, WebhookEndpoint


class WebhookEndpoints(Protocol):
    """The registered endpoints and their signing secrets (kept so that the store alone cannot sign)."""

    async def add(self, endpoint: WebhookEndpoint, keys: SigningKeys) -> None: ...

    async def all(self) -> Sequence[WebhookEndpoint]: ...

    async def remove(self, endpoint_id: uuid.UUID) -> bool:
        """Remove it and its undelivered messages; answer whether it existed."""
        ...

    async def rotate(self, endpoint_id: uuid.UUID, keys: SigningKeys) -> bool:
        """Replace its secrets; answer whether it exists."""
        ...

    async def signing(
        self, endpoint_ids: Collection[uuid.UUID]
    ) -> Mapping[uuid.UUID, tuple[WebhookEndpoint, SigningKeys]]:
        """The enabled ones among ``endpoint_ids``, with their secrets."""
        ...

    async def disable(self, endpoint_id: uuid.UUID, reason: str) -> None: ...


class WebhookOutbox(Protocol):
    """Messages waiting for delivery. A claim leases them to one process (no other claims them until the
    lease ends or the attempt is recorded), so two processes never send one attempt twice."""

    async def claim(self, now: datetime, lease: timedelta, limit: int) -> Sequence[Delivery]: ...

    async def delivered(self, deliveries: Sequence[Delivery], now: datetime) -> None:
        """Record these attempts as delivered (those whose lease is still theirs)."""
        ...

    async def failed(self, delivery: Delivery, retry_at: datetime | None, error: str) -> None:
        """Record a failed attempt; ``retry_at`` None: no more attempts."""
        ...


class HostResolver(Protocol):
    """The addresses a host name resolves to now. Raise ``EndpointRefused`` when it resolves to none."""

    async def resolve(self, host: str, port: int) -> Sequence[IpAddress]: ...


@dataclass(frozen=True, slots=True)
class SendOutcome:
    ok: bool
    detail: str


class WebhookSender(Protocol):
    """POSTs one message to ``url``, connecting to ``address`` (checked already) and to nothing else; never
    raises for the receiver's failures (they are the outcome), with a short timeout and a bounded read."""

    async def send(self, url: str, address: IpAddress, headers: Mapping[str, str], body: bytes) -> SendOutcome: ...


class WebhookReporter(Protocol):
    """Told of each attempt's outcome and of every endpoint disabled (logs, metrics)."""

    def attempted(self, delivery: Delivery, outcome: str, delay_seconds: float) -> None: ...

    def endpoint_disabled(self, endpoint: WebhookEndpoint, reason: str) -> None: ...


class SecretBox(Protocol):
    """Encrypts secrets at rest with a key that is not in the store (``open`` raises ``ValueError`` on a
    token it did not seal, or sealed under another key)."""

    def seal(self, secret: str) -> str: ...

    def open(self, sealed: str) -> str: ...
