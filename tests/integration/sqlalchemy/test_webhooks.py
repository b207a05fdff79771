"""Outbound webhooks end to end below the HTTP API: the outbox in the database (SQLite and PostgreSQL),
real HTTP attempts to a receiver on loopback, signatures checked by the independent ``standardwebhooks``
package, retries on the schedule, the endpoint disabled after a day, and addresses refused (SSRF)."""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook, WebhookVerificationError

from meet.adapters.cryptography.secrets import AesGcmSecretBox
from meet.adapters.httpx.webhooks import HttpxWebhookSender, SystemHostResolver, client
from meet.adapters.sqlalchemy.database import create_session_factory
from meet.adapters.sqlalchemy.event_tables import webhook_endpoint, webhook_outbox
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.adapters.sqlalchemy.webhooks import SqlaWebhookEndpoints, SqlaWebhookOutbox
from meet.domain.shared.events import Action, Actor, RoomEvent, participant
from meet.domain.webhooks.model import RETRY_DELAYS, AddressPolicy, Delivery, EndpointRefused, IpAddress
from meet.domain.webhooks.model import WebhookEndpoint as Endpoint
from meet.domain.webhooks.ports import HostResolver
from meet.domain.webhooks.use_cases import (
    AddEndpointRequest,
    AddWebhookEndpoint,
    DeliverDueWebhooks,
    NewEndpoint,
    RotateWebhookSecret,
    WebhookPolicy,
)
from tests.support.clock import FakeClock
from tests.support.receiver import Received, Receiver, webhook_receiver

LOOPBACK = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))


@dataclass
class Reports:
    attempts: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    disabled: list[tuple[Endpoint, str]] = field(default_factory=list)

    def attempted(self, delivery: Delivery, outcome: str, delay_seconds: float) -> None:  # noqa: ARG002
        self.attempts.append((delivery.event_id, outcome))

    def endpoint_disabled(self, endpoint: Endpoint, reason: str) -> None:
        self.disabled.append((endpoint, reason))


@dataclass
class Hooks:
    engine: AsyncEngine
    clock: FakeClock
    policy: WebhookPolicy
    endpoints: SqlaWebhookEndpoints
    outbox: SqlaWebhookOutbox
    http: httpx.AsyncClient
    reports: Reports = field(default_factory=Reports)
    resolver: HostResolver = field(default_factory=SystemHostResolver)

    async def add(self, url: str, *events: Action) -> NewEndpoint:
        add = AddWebhookEndpoint(self.endpoints, self.resolver, self.policy, self.clock)
        return await add.execute(AddEndpointRequest(url, [event.value for event in events]))

    async def happen(self, action: Action, room_id: uuid.UUID | None = None) -> RoomEvent:
        event = RoomEvent(
            room_id or uuid.uuid4(), action, self.clock.now(), Actor.user("alice"), participant("p-1", "Guest")
        )
        async with SqlaUnitOfWork(create_session_factory(self.engine)).begin() as tx:
            await tx.audit.append(event)
        return event

    async def deliver(self) -> int:
        sender = HttpxWebhookSender(self.http, 2.0)
        deliver = DeliverDueWebhooks(
            self.outbox, self.endpoints, self.resolver, sender, self.reports, self.policy, self.clock
        )
        return await deliver.execute()


@pytest.fixture
async def hooks(engine: AsyncEngine) -> AsyncIterator[Hooks]:
    box = AesGcmSecretBox.from_passphrase("test-key-" + "k" * 32)
    async with client(2.0) as http:
        yield Hooks(
            engine=engine,
            clock=FakeClock(datetime.now(UTC)),
            policy=WebhookPolicy(addresses=LOOPBACK, rotation_overlap=timedelta(seconds=60)),
            endpoints=SqlaWebhookEndpoints(engine, box),
            outbox=SqlaWebhookOutbox(engine),
            http=http,
        )


@pytest.fixture
def receiver() -> AsyncIterator[Receiver]:  # type: ignore[misc]
    with webhook_receiver() as running:
        yield running


def verified(secret: str, request_headers: dict[str, str], body: bytes) -> dict[str, object]:
    payload = Webhook(secret).verify(body, request_headers)
    assert isinstance(payload, dict)
    return payload


def signed_by(secret: str, got: Received) -> bool:
    """Whether one of the request's signatures is ``secret``'s, as standardwebhooks computes it."""
    sent_at = datetime.fromtimestamp(int(got.headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(got.headers["webhook-id"], sent_at, got.body)
    return expected in got.headers["webhook-signature"].split(" ")


async def test_subscribed_events_arrive_signed_as_standard_webhooks_verify_them(
    hooks: Hooks, receiver: Receiver
) -> None:
    added = await hooks.add(receiver.url, Action.ROOM_CREATED, Action.LOBBY_ADMITTED)
    assert added.secret.startswith("whsec_")
    created = await hooks.happen(Action.ROOM_CREATED)
    await hooks.happen(Action.PARTICIPANT_MUTED)  # nobody subscribed: nothing queued
    admitted = await hooks.happen(Action.LOBBY_ADMITTED)
    assert await hooks.deliver() == 2
    got = receiver.wait_for(2)
    assert [r.headers["webhook-id"] for r in got] == [str(created.id), str(admitted.id)]
    payload = verified(added.secret, got[1].headers, got[1].body)
    assert payload["type"] == "lobby.admitted"
    data = payload["data"]
    assert isinstance(data, dict)
    assert data["id"] == str(admitted.id)
    assert data["room_id"] == str(admitted.room_id)
    assert data["subject"] == {"kind": "participant", "id": "p-1", "name": "Guest"}
    assert data["actor"] == {"kind": "user", "id": "alice"}
    assert got[0].headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(got[0].body, got[0].headers)
    assert await hooks.deliver() == 0  # delivered once: nothing due any more


async def test_a_receiver_that_fails_then_recovers_gets_the_same_message_again_on_the_schedule(
    hooks: Hooks, receiver: Receiver
) -> None:
    added = await hooks.add(receiver.url, Action.ROOM_CREATED)
    receiver.answers.extend([500, 503])
    event = await hooks.happen(Action.ROOM_CREATED)
    assert await hooks.deliver() == 1
    assert await hooks.deliver() == 0  # not due before its retry
    hooks.clock.advance(RETRY_DELAYS[0] * 1.2 + 0.01)
    assert await hooks.deliver() == 1
    hooks.clock.advance(RETRY_DELAYS[1] * 0.99)
    assert await hooks.deliver() == 0  # jitter only lengthens a delay: still too early
    hooks.clock.advance(RETRY_DELAYS[1] * 0.22)
    assert await hooks.deliver() == 1
    got = receiver.wait_for(3)
    assert [r.status for r in got] == [500, 503, 204]
    assert {r.headers["webhook-id"] for r in got} == {str(event.id)}
    stamps = [int(r.headers["webhook-timestamp"]) for r in got]
    assert stamps == sorted(stamps)
    for late in got:  # signed at the (fake) hour of each attempt: checked without standardwebhooks' clock
        assert signed_by(added.secret, late)
    assert hooks.reports.attempts == [(event.id, "failed"), (event.id, "failed"), (event.id, "delivered")]
    assert await hooks.deliver() == 0


async def test_an_endpoint_failing_for_more_than_a_day_is_disabled_and_reported(
    hooks: Hooks, receiver: Receiver
) -> None:
    await hooks.add(receiver.url, Action.ROOM_CREATED)
    receiver.answers.extend([500] * 20)
    await hooks.happen(Action.ROOM_CREATED)
    first = hooks.clock.now()
    while not hooks.reports.disabled:
        assert await hooks.deliver() == 1
        hooks.clock.advance(max(RETRY_DELAYS) * 1.21)
    assert len(receiver.wait_for(len(RETRY_DELAYS) + 1)) == len(RETRY_DELAYS) + 1
    assert sum(RETRY_DELAYS) >= 86400  # retried for at least a day whatever the jitter (it only lengthens)
    assert hooks.clock.now() - first >= timedelta(days=1)
    _, reason = hooks.reports.disabled[0]
    assert "8 attempts failed" in reason
    (listed,) = await hooks.endpoints.all()
    assert not listed.enabled
    assert listed.disabled_reason == reason
    await hooks.happen(Action.ROOM_CREATED)  # a disabled endpoint is sent nothing more
    assert await hooks.deliver() == 0
    assert len(receiver.received) == len(RETRY_DELAYS) + 1


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_overlap(hooks: Hooks, receiver: Receiver) -> None:
    added = await hooks.add(receiver.url, Action.RECORDING_SAVED)
    rotated = await RotateWebhookSecret(hooks.endpoints, hooks.policy, hooks.clock).execute(added.endpoint.id)
    assert rotated != added.secret
    await hooks.happen(Action.RECORDING_SAVED)
    await hooks.deliver()
    (during,) = receiver.wait_for(1)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verified(added.secret, during.headers, during.body)
    verified(rotated, during.headers, during.body)
    hooks.clock.advance(61)
    await hooks.happen(Action.RECORDING_SAVED)
    await hooks.deliver()
    after = receiver.wait_for(2)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verified(rotated, after.headers, after.body)
    with pytest.raises(WebhookVerificationError):
        verified(added.secret, after.headers, after.body)


async def test_secrets_are_sealed_at_rest(hooks: Hooks, engine: AsyncEngine) -> None:
    with webhook_receiver() as receiver:
        added = await hooks.add(receiver.url, Action.ROOM_CREATED)
    async with engine.connect() as connection:
        stored = (await connection.execute(select(webhook_endpoint.c.secret))).scalar_one()
    assert added.secret not in stored
    assert added.secret.removeprefix("whsec_") not in stored
    with pytest.raises(ValueError, match="another key"):
        AesGcmSecretBox.from_passphrase("another-key-" + "k" * 32).open(stored)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://localhost/hook", "loopback"),
        ("http://8.8.8.8/hook", "https"),
        ("ftp://8.8.8.8/hook", "http(s) URL"),
        ("https://user:pw@8.8.8.8/hook", "credentials"),
    ],
)
async def test_ssrf_endpoints_are_refused_at_registration(hooks: Hooks, url: str, problem: str) -> None:
    hooks.policy = WebhookPolicy()  # no allowed networks
    with pytest.raises(EndpointRefused, match=problem.replace("(", r"\(").replace(")", r"\)")):
        await hooks.add(url, Action.ROOM_CREATED)
    assert await hooks.endpoints.all() == []


@dataclass
class Rebinding:
    """Answers a public address while the endpoint is registered, then loopback (DNS rebinding)."""

    answers: list[str]

    async def resolve(self, host: str, port: int) -> Sequence[IpAddress]:  # noqa: ARG002
        return [ipaddress.ip_address(self.answers.pop(0) if len(self.answers) > 1 else self.answers[0])]


async def test_a_name_that_rebinds_to_loopback_after_registration_is_not_sent_to(
    hooks: Hooks, receiver: Receiver, engine: AsyncEngine
) -> None:
    hooks.policy = WebhookPolicy()
    hooks.resolver = Rebinding(["93.184.216.34", "127.0.0.1"])
    await hooks.add(f"https://rebind.example:{receiver.port}/hook", Action.ROOM_CREATED)
    await hooks.happen(Action.ROOM_CREATED)
    assert await hooks.deliver() == 1
    assert hooks.reports.attempts[0][1] == "failed"
    async with engine.connect() as connection:
        error = (await connection.execute(select(webhook_outbox.c.last_error))).scalar_one()
    assert "127.0.0.1" in error
    assert receiver.received == []


@dataclass
class Pinned:
    async def resolve(self, host: str, port: int) -> Sequence[IpAddress]:  # noqa: ARG002
        return [ipaddress.ip_address("127.0.0.1")]


async def test_the_attempt_connects_to_the_checked_address_under_the_endpoints_name(
    hooks: Hooks, receiver: Receiver
) -> None:
    hooks.resolver = Pinned()
    added = await hooks.add(f"http://hooks.example.test:{receiver.port}/in?x=1", Action.ROOM_UPDATED)
    await hooks.happen(Action.ROOM_UPDATED)
    await hooks.deliver()
    (got,) = receiver.wait_for(1)
    assert got.headers["host"] == f"hooks.example.test:{receiver.port}"
    assert got.path == "/in?x=1"
    assert json.loads(got.body)["type"] == "room.updated"
    verified(added.secret, got.headers, got.body)


async def test_a_huge_answer_is_not_read_whole(hooks: Hooks) -> None:
    with webhook_receiver(answer_body=b"x" * 5_000_000) as receiver:
        await hooks.add(receiver.url, Action.ROOM_CREATED)
        await hooks.happen(Action.ROOM_CREATED)
        assert await hooks.deliver() == 1
    assert hooks.reports.attempts[0][1] == "delivered"
