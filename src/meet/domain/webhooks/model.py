"""Outbound webhooks (Standard Webhooks): endpoints, their secrets, signatures, where they may point, retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.events import Action

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
EVENT_TYPES = tuple(action.value for action in Action)

# Standard Webhooks' suggested schedule: after the first attempt, retry 5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h and 10 h later (27 h 35 min in all), each delay lengthened by a random 0-20 % so that retries of
# many messages to one recovering endpoint do not arrive in step (only lengthened: the last attempt
# comes more than a day after the first whatever the draw). After the last, the endpoint is disabled.
RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
JITTER = 0.2
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointRefused(InvalidInput):
    default_message = "This webhook endpoint is not allowed."
    code = "webhook_endpoint_refused"


def new_secret() -> str:
    """A signing secret as Standard Webhooks spells it: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Every valid secret's signature, space-separated: during a rotation receivers may hold either."""
    return " ".join(signature(secret, message_id, timestamp, body) for secret in secrets_)


def retry_delay(attempts: int, rng: random.Random) -> timedelta | None:
    """How long after the ``attempts``-th failed attempt to try again; ``None``: give up."""
    if attempts > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempts - 1]
    return timedelta(seconds=base * (1 + rng.uniform(0, JITTER)))


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Where an endpoint may point: public addresses over https; loopback, private, link-local and other
    special addresses only inside the operator's allowed networks, which alone may use plain http."""

    allowed_networks: tuple[IpNetwork, ...] = ()

    def allowed(self, address: IpAddress) -> bool:
        return any(address in network for network in self.allowed_networks)

    def check(self, scheme: str, addresses: Sequence[IpAddress]) -> None:
        """Raise ``EndpointRefused`` unless every address the host resolves to may be reached."""
        if not addresses:
            raise EndpointRefused("The endpoint's host resolves to no address.", field="url")
        for address in addresses:
            if self.allowed(address):
                continue
            if not address.is_global or address.is_multicast:
                raise EndpointRefused(
                    f"The endpoint resolves to {address}, a loopback, private or link-local address; "
                    "add its network to MEET_WEBHOOK_ALLOWED_NETWORKS to allow it.",
                    field="url",
                )
            if scheme != "https":
                raise EndpointRefused("The endpoint must use https.", field="url")


def parse_endpoint_url(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an endpoint URL; anything but a plain http(s) URL with a host is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise EndpointRefused("The endpoint URL cannot be read.", field="url") from error
    if parts.scheme not in {"http", "https"} or not parts.hostname or len(url) > 2048:
        raise EndpointRefused("The endpoint must be an http(s) URL with a host.", field="url")
    if parts.username or parts.password or parts.fragment:
        raise EndpointRefused("The endpoint URL must carry no credentials and no fragment.", field="url")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def event_types(names: Sequence[str]) -> tuple[str, ...]:
    unknown = sorted(set(names) - set(EVENT_TYPES))
    if unknown or not names:
        raise InvalidInput(
            f"Unknown event type {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}."
            if unknown
            else "Name an event type.",
            field="events",
        )
    return tuple(sorted(set(names)))


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: uuid.UUID
    url: str
    event_types: tuple[str, ...]
    enabled: bool
    created_at: datetime
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class SigningKeys:
    """An endpoint's secrets able to sign now: the current one, and the previous during a rotation's overlap."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None

    def valid_at(self, now: datetime) -> tuple[str, ...]:
        if self.previous and self.previous_until and now < self.previous_until:
            return (self.current, self.previous)
        return (self.current,)


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one endpoint, claimed for one attempt (``attempts`` counts this one)."""

    event_id: uuid.UUID
    endpoint_id: uuid.UUID
    event_type: str
    room_id: uuid.UUID
    at: datetime
    payload: str
    attempts: int
