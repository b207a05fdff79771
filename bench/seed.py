"""Data the scenarios need, written straight into PostgreSQL and Redis (no HTTP sign-in in production)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import asyncpg
import httpx
from litestar.serialization import encode_json
from litestar.stores.redis import RedisStore
from livekit.api import AccessToken
from redis.asyncio import Redis, RedisCluster
from tests.doubles.bars import DurableBarsDouble

from meet.adapters.redis.client import open_redis_cluster
from meet.adapters.redis.lobby import RedisLobbyStore, RedisRoomBars
from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyTimeouts
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, SfuRoomName
from meet.domain.users.model import User

SESSION_NAMESPACE = "meet-sessions"
WAITING_SIZES = (10, 1_000, 10_000)
BASELINE_ROOMS = 10  # scenario 6 compares this many rooms in the database with 100,000 more


@dataclass
class Seeded:
    sessions: dict[str, str] = field(default_factory=dict)  # sub -> session cookie value
    rooms: dict[str, Room] = field(default_factory=dict)  # key -> room
    users: dict[str, User] = field(default_factory=dict)  # sub -> user


async def seed_database(database_url: str) -> Seeded:
    seeded = Seeded()
    engine = create_engine(database_url)
    async with SqlaUnitOfWork(create_session_factory(engine)).begin() as tx:
        users, rooms, accesses = tx.users, tx.rooms, tx.accesses
        owner = await users.add(User(id=uuid.uuid4(), sub="bench-owner", full_name="Bench Owner"))
        member = await users.add(User(id=uuid.uuid4(), sub="bench-member", full_name="Bench Member"))
        plan = {
            "public": ("Town hall", AccessLevel.PUBLIC),
            "restricted": ("Board", AccessLevel.RESTRICTED),
            "knock": ("Knock here", AccessLevel.RESTRICTED),
            "poll": ("Poll here", AccessLevel.RESTRICTED),
            "townhall": ("Town hall meeting", AccessLevel.RESTRICTED),
            **{f"wait-{n}": (f"Waiting {n}", AccessLevel.RESTRICTED) for n in WAITING_SIZES},
        }
        plan.update({f"other-{i}": (f"Other room {i}", AccessLevel.PUBLIC) for i in range(BASELINE_ROOMS - len(plan))})
        for key, (name, level) in plan.items():
            room = await rooms.add(Room.create(name, level))
            await accesses.add(RoomAccess.grant(room.id, owner.id, Role.OWNER))
            seeded.rooms[key] = room
        await accesses.add(RoomAccess.grant(seeded.rooms["restricted"].id, member.id, Role.MEMBER))
    await engine.dispose()
    seeded.users = {owner.sub: owner, member.sub: member}
    return seeded


async def _client(redis_url: str, *, cluster: bool) -> Redis | RedisCluster:
    return await open_redis_cluster(redis_url) if cluster else Redis.from_url(redis_url, max_connections=32)


async def create_sessions(redis_url: str, seeded: Seeded, *, cluster: bool = False) -> None:
    """Server-side sessions exactly as the session middleware stores them after an OIDC sign-in.

    On a second store (``cluster``), the same session ids as on the first, so one cookie serves both.
    """
    client = await _client(redis_url, cluster=cluster)
    store = RedisStore(cast("Redis", client), namespace=SESSION_NAMESPACE)
    for user in seeded.users.values():
        session_id = seeded.sessions.setdefault(user.sub, secrets.token_hex(16))
        data = {"user": {"id": str(user.id), "sub": user.sub, "full_name": user.full_name}}
        await store.set(session_id, encode_json(data), expires_in=3600)
    await client.aclose()


async def fill_waiting_lists(redis_url: str, seeded: Seeded, *, cluster: bool = False) -> None:
    """People waiting in the ``wait-N`` rooms, knocked in through the production store (its own Lua scripts)."""
    client = await _client(redis_url, cluster=cluster)
    store = RedisLobbyStore(client, RedisRoomBars(client, DurableBarsDouble()), sharded=cluster)  # nobody is barred
    gate = KnockGate("seed", rate_limit=1_000_000_000)
    now = datetime.now(UTC)
    timeouts = LobbyTimeouts(waiting=3600, accepted=3600, denied=3600)  # nobody expires during the run
    limit = asyncio.Semaphore(16)

    async def knock(room: str, i: int) -> None:
        async with limit:
            await store.knock(
                SfuRoomName(room),
                LobbyEntry.knock(SfuRoomName(str(uuid.uuid4())), f"Person {i}", now),
                now,
                timeouts,
                gate,
            )

    for size in WAITING_SIZES:
        room = seeded.rooms[f"wait-{size}"].sfu_room_name
        await asyncio.gather(*(knock(room, i) for i in range(size)))
    await client.aclose()


async def lobby_credentials(base: str, room: Room, count: int) -> list[str]:
    """Participants waiting in ``room``, knocked in over HTTP: the credentials their polls carry."""
    limit = asyncio.Semaphore(16)

    async def knock(client: httpx.AsyncClient, i: int) -> str:
        async with limit:
            response = await client.post(f"/api/v1/rooms/{room.id}/request-entry", json={"username": f"Poller {i}"})
        response.raise_for_status()
        return str(response.json()["credential"])

    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        return list(await asyncio.gather(*(knock(client, i) for i in range(count))))


def webhook_deliveries(rooms: Sequence[str], count: int, api_key: str, api_secret: str) -> list[str]:
    """Signed ``participant_joined`` deliveries, each with its own event id: ``<jwt>\t<body>`` lines."""
    lines = []
    for i in range(count):
        body = json.dumps(
            {
                "id": f"EV_{uuid.uuid4().hex}",
                "event": "participant_joined",
                "room": {"name": rooms[i % len(rooms)]},
                "participant": {"identity": f"guest-{i}", "name": "Guest"},
                "createdAt": str(int(time.time())),
            },
            separators=(",", ":"),
        )
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        token = AccessToken(api_key, api_secret).with_sha256(digest).to_jwt()
        lines.append(f"{token}\t{body}")
    return lines


async def add_rooms(postgres_dsn: str, count: int) -> None:
    """Bulk-insert ``count`` unrelated public rooms (COPY, a second or two), then vacuum and checkpoint."""
    now = datetime.now(UTC)
    connection = await asyncpg.connect(postgres_dsn)
    try:
        records = [
            (uuid.uuid4(), now, now, f"Filler room {i}", f"filler-room-{i}-{uuid.uuid4().hex[:6]}", "public", "{}")
            for i in range(count)
        ]
        await connection.copy_records_to_table(
            "meet_room",
            records=records,
            columns=["id", "created_at", "updated_at", "name", "slug", "access_level", "configuration"],
        )
        # Settle what the insert leaves to background work (autovacuum, the next checkpoint): on 2 cores it
        # would otherwise compete with the measurement that follows.
        await connection.execute("VACUUM ANALYZE meet_room")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()


async def add_unrelated_keys(redis_url: str, count: int) -> None:
    client = Redis.from_url(redis_url)
    async with client.pipeline(transaction=False) as pipe:
        for i in range(count):
            pipe.set(f"unrelated:{i}", b"x")
        await pipe.execute()
    await client.aclose()
