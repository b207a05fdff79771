"""Outbound webhooks: deliveries per second to a local receiver, and the delay from a change taking effect
to its delivery (p50, p99), through the delivery step every API process runs (``DeliverDueWebhooks``),
against a real PostgreSQL started for the run and an HTTP receiver on loopback.

    uv run python -m bench.webhooks [--messages 2000] [--rate 100] [--poll 1.0]

``make bench`` runs it too (2,000 messages, 100 per second, 1 s polls) on its own PostgreSQL.

- burst: ``--messages`` events committed first, then one process drains the outbox: deliveries/s;
- paced: events committed at ``--rate`` per second while one process polls every ``--poll`` seconds
  (the default of ``MEET_WEBHOOK_POLL_SECONDS``): the delay from each event's ``at`` to its arrival.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import statistics
import time
import uuid
from datetime import UTC, datetime

from tests.support.receiver import Receiver, webhook_receiver
from tests.support.services import start_local_postgres

from meet.adapters.cryptography.secrets import AesGcmSecretBox
from meet.adapters.httpx.webhooks import HttpxWebhookSender, SystemHostResolver, client
from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.migrate import upgrade
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.adapters.sqlalchemy.webhooks import SqlaWebhookEndpoints, SqlaWebhookOutbox
from meet.domain.shared.clock import SystemClock
from meet.domain.shared.events import Action, Actor, RoomEvent
from meet.domain.webhooks.model import AddressPolicy, Delivery, WebhookEndpoint
from meet.domain.webhooks.use_cases import AddEndpointRequest, AddWebhookEndpoint, DeliverDueWebhooks, WebhookPolicy


class _Counted:
    failed = 0

    def attempted(self, delivery: Delivery, outcome: str, delay_seconds: float) -> None:  # noqa: ARG002
        self.failed += outcome != "delivered"

    def endpoint_disabled(self, endpoint: WebhookEndpoint, reason: str) -> None:  # noqa: ARG002
        return None


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(database_url: str, receiver: Receiver, messages: int, rate: float, poll: float) -> dict[str, float]:
    engine = create_engine(database_url)
    await upgrade(engine)
    uow = SqlaUnitOfWork(create_session_factory(engine))
    clock = SystemClock()
    policy = WebhookPolicy(addresses=AddressPolicy((ipaddress.ip_network("127.0.0.0/8"),)))
    endpoints = SqlaWebhookEndpoints(engine, AesGcmSecretBox.from_passphrase("bench-" + "k" * 32))
    await AddWebhookEndpoint(endpoints, SystemHostResolver(), policy, clock).execute(
        AddEndpointRequest(receiver.url, [Action.ROOM_UPDATED.value])
    )
    room = uuid.uuid4()

    async def happen() -> None:
        async with uow.begin() as tx:
            await tx.audit.append(RoomEvent(room, Action.ROOM_UPDATED, clock.now(), Actor.user("bench")))

    reports = _Counted()
    async with client(5.0) as http:
        deliver = DeliverDueWebhooks(
            SqlaWebhookOutbox(engine),
            endpoints,
            SystemHostResolver(),
            HttpxWebhookSender(http, 5.0),
            reports,
            policy,
            clock,
        )
        for _ in range(messages):
            await happen()
        started = time.perf_counter()
        while len(receiver.received) < messages:  # failed attempts come back on their retry schedule
            if not await deliver.execute():
                await asyncio.sleep(0.05)
        burst_seconds = time.perf_counter() - started

        stop = asyncio.Event()

        async def poller() -> None:
            while not stop.is_set():
                if not await deliver.execute():
                    await asyncio.sleep(poll)

        task = asyncio.create_task(poller())
        for _ in range(messages):
            await happen()
            await asyncio.sleep(1 / rate)
        receiver.wait_for(2 * messages, timeout=120)
        stop.set()
        await task
    await engine.dispose()
    delays = [
        r.arrived_at - datetime.fromisoformat(json.loads(r.body)["data"]["at"]).timestamp()
        for r in receiver.received[messages:]
        if r.body  # an attempt the receiver cut short (it failed and was retried)
    ]
    return {
        "deliveries_per_second": messages / burst_seconds,
        "delay_p50_ms": 1000 * statistics.median(delays),
        "delay_p99_ms": 1000 * _percentile(delays, 0.99),
        "failed_attempts": reports.failed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="events per second in the paced run")
    parser.add_argument("--poll", type=float, default=1.0, help="MEET_WEBHOOK_POLL_SECONDS of the paced run")
    args = parser.parse_args()
    with start_local_postgres() as postgres, webhook_receiver() as receiver:
        figures = asyncio.run(run(postgres.url(), receiver, args.messages, args.rate, args.poll))
    print(json.dumps({"at": datetime.now(UTC).isoformat(timespec="seconds"), **vars(args), **figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
