"""Data the scenarios need, written straight into PostgreSQL and Redis (no HTTP sign-in in production)."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from litestar.serialization import encode_json
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis

from meet.adapters.redis.lobby import RedisLobbyStore
from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.repositories import (
    SqlaRoomAccessRepository,
    SqlaRoomRepository,
    SqlaUnitOfWork,
    SqlaUserRepository,
)
from meet.domain.lobby.model import LobbyEntry, LobbyTimeouts
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess
from meet.domain.users.model import User

SESSION_NAMESPACE = "meet-sessions"
WAITING_SIZES = (10, 1_000, 10_000)


@dataclass
class Seeded:
    sessions: dict[str, str] = field(default_factory=dict)  # sub -> session cookie value
    rooms: dict[str, Room] = field(default_factory=dict)  # key -> room
    users: dict[str, User] = field(default_factory=dict)  # sub -> user


async def seed_database(database_url: str) -> Seeded:
    seeded = Seeded()
    engine = create_engine(database_url)
    async with create_session_factory(engine)() as session:
        users, rooms, accesses = (
            SqlaUserRepository(session),
            SqlaRoomRepository(session),
            SqlaRoomAccessRepository(session),
        )
        owner = await users.add(User(id=uuid.uuid4(), sub="bench-owner", full_name="Bench Owner"))
        member = await users.add(User(id=uuid.uuid4(), sub="bench-member", full_name="Bench Member"))
        plan = {
            "public": ("Town hall", AccessLevel.PUBLIC),
            "restricted": ("Board", AccessLevel.RESTRICTED),
            "knock": ("Knock here", AccessLevel.RESTRICTED),
            "poll": ("Poll here", AccessLevel.RESTRICTED),
            **{f"wait-{n}": (f"Waiting {n}", AccessLevel.RESTRICTED) for n in WAITING_SIZES},
        }
        for key, (name, level) in plan.items():
            room = await rooms.add(Room.create(name, level))
            await accesses.add(RoomAccess.grant(room.id, owner.id, Role.OWNER))
            seeded.rooms[key] = room
        await accesses.add(RoomAccess.grant(seeded.rooms["restricted"].id, member.id, Role.MEMBER))
        await SqlaUnitOfWork(session).commit()
    await engine.dispose()
    seeded.users = {owner.sub: owner, member.sub: member}
    return seeded


async def create_sessions(redis_url: str, seeded: Seeded) -> None:
    """Server-side sessions exactly as the session middleware stores them after an OIDC sign-in."""
    store = RedisStore.with_client(url=redis_url, namespace=SESSION_NAMESPACE)
    for user in seeded.users.values():
        session_id = secrets.token_hex(16)
        data = {"user": {"id": str(user.id), "sub": user.sub, "full_name": user.full_name}}
        await store.set(session_id, encode_json(data), expires_in=3600)
        seeded.sessions[user.sub] = session_id
    await store._redis.aclose()


async def fill_waiting_lists(redis_url: str, seeded: Seeded) -> None:
    client = Redis.from_url(redis_url)
    store = RedisLobbyStore(client)
    now = datetime.now(UTC)
    timeouts = LobbyTimeouts(waiting=3600, accepted=3600, denied=3600)  # nobody expires during the run
    for size in WAITING_SIZES:
        room = seeded.rooms[f"wait-{size}"].sfu_room_name
        for i in range(size):
            await store.knock(room, LobbyEntry.knock(str(uuid.uuid4()), f"Person {i}", now), now, timeouts)
    await client.aclose()


async def add_rooms(postgres_dsn: str, count: int) -> None:
    """Bulk-insert ``count`` unrelated public rooms (COPY), then refresh the planner's statistics."""
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
        await connection.execute("ANALYZE meet_room")
    finally:
        await connection.close()


async def add_unrelated_keys(redis_url: str, count: int) -> None:
    client = Redis.from_url(redis_url)
    async with client.pipeline(transaction=False) as pipe:
        for i in range(count):
            pipe.set(f"unrelated:{i}", b"x")
        await pipe.execute()
    await client.aclose()
