"""The asyncpg room reader answers exactly what the SQLAlchemy path answers, on a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest

from meet.adapters.asyncpg.pool import create_read_pool
from meet.adapters.asyncpg.rooms import AsyncpgRoomReader
from meet.adapters.sql.errors import DatabaseUnavailable
from meet.adapters.sqlalchemy.database import create_engine, create_read_session_factory, create_session_factory
from meet.adapters.sqlalchemy.migrate import upgrade
from meet.adapters.sqlalchemy.readers import SqlaRoomReader
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration, TrackSource
from meet.domain.users.model import User
from tests.support.services import free_port


@pytest.fixture
async def database_url(fresh_postgres_database: str) -> str:
    engine = create_engine(fresh_postgres_database)
    await upgrade(engine)
    await engine.dispose()
    return fresh_postgres_database


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_read_pool(database_url, size=2)
    yield pool
    await pool.close()


async def stored(database_url: str) -> tuple[Room, Room, User, User]:
    """A configured restricted room with an owner, a plain public room, and a stranger."""
    engine = create_engine(database_url)
    try:
        async with SqlaUnitOfWork(create_session_factory(engine)).begin() as tx:
            users, rooms, accesses = tx.users, tx.rooms, tx.accesses
            owner = await users.add(User(id=uuid.uuid4(), sub="owner", full_name="Owner"))
            stranger = await users.add(User(id=uuid.uuid4(), sub="stranger", full_name="Stranger"))
            configured = Room.create(
                "Board meeting",
                AccessLevel.RESTRICTED,
                configuration=RoomConfiguration(
                    can_publish_sources=(TrackSource.MICROPHONE, TrackSource.CAMERA), everyone_can_mute=False
                ),
            )
            configured = await rooms.add(configured)
            plain = await rooms.add(Room.create("Town hall"))
            await accesses.add(RoomAccess.grant(configured.id, owner.id, Role.OWNER))
        # What the SQLAlchemy path reads back is the reference.
        reference = SqlaRoomReader(create_read_session_factory(engine))
        configured = await reference.room(configured.id) or configured
        plain = await reference.room(plain.id) or plain
    finally:
        await engine.dispose()
    return configured, plain, owner, stranger


async def test_rooms_read_through_asyncpg_equal_the_repository_s(database_url: str, pool: asyncpg.Pool) -> None:
    configured, plain, _, _ = await stored(database_url)
    reads = AsyncpgRoomReader(pool)

    assert await reads.room(configured.id) == configured
    assert await reads.room_by_slug(configured.slug) == configured
    assert await reads.room_by_slug(plain.slug) == plain
    assert configured.configuration.can_publish_sources == (TrackSource.MICROPHONE, TrackSource.CAMERA)
    assert await reads.room(uuid.uuid4()) is None
    assert await reads.room_by_slug("no-such-room") is None


async def test_a_room_read_through_asyncpg_serializes_like_any_other(database_url: str, pool: asyncpg.Pool) -> None:
    configured, _, _, _ = await stored(database_url)
    room = await AsyncpgRoomReader(pool).room(configured.id)
    assert room is not None
    assert type(room.id) is uuid.UUID
    assert msgspec.json.decode(msgspec.json.encode({"id": room.id})) == {"id": str(configured.id)}


async def test_roles_read_through_asyncpg(database_url: str, pool: asyncpg.Pool) -> None:
    configured, plain, owner, stranger = await stored(database_url)
    reads = AsyncpgRoomReader(pool)

    assert await reads.role_of(configured.id, owner.id) is Role.OWNER
    assert await reads.role_of(configured.id, stranger.id) is None
    assert await reads.role_of(plain.id, owner.id) is None


async def test_listings_read_through_asyncpg_equal_sqlalchemy_s(database_url: str, pool: asyncpg.Pool) -> None:
    configured, _, owner, stranger = await stored(database_url)
    engine = create_engine(database_url)
    try:
        reference = SqlaRoomReader(create_read_session_factory(engine))
        reads = AsyncpgRoomReader(pool)
        for user in (owner, stranger):
            assert await reads.rooms_of(user.id, limit=10, offset=0) == await reference.rooms_of(
                user.id, limit=10, offset=0
            )
        assert await reads.accesses_of(configured.id) == await reference.accesses_of(configured.id)
        assert [access.role for access in await reads.accesses_of(configured.id)] == [Role.OWNER]
    finally:
        await engine.dispose()


async def test_an_unreachable_server_is_the_database_unavailable_error() -> None:
    pool = await create_read_pool(f"postgresql+asyncpg://meet@127.0.0.1:{free_port()}/meet", size=1)
    try:
        with pytest.raises(DatabaseUnavailable):
            await AsyncpgRoomReader(pool).room_by_slug("town-hall")
    finally:
        await pool.close()
