from __future__ import annotations

import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from meet.adapters.sqlalchemy.database import create_read_session_factory, create_session_factory
from meet.adapters.sqlalchemy.migrate import downgrade, upgrade
from meet.adapters.sqlalchemy.readers import SqlaRoomReader
from meet.adapters.sqlalchemy.repositories import SqlaRoomAccessRepository, SqlaRoomRepository, SqlaUserRepository
from meet.domain.rooms.errors import AccessAlreadyExists, RoomSlugTaken
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration, TrackSource
from meet.domain.users.model import User


async def add_user(session: AsyncSession, sub: str, email: str | None = None) -> User:
    user = await SqlaUserRepository(session).add(User(id=uuid.uuid4(), sub=sub, email=email, full_name=sub))
    await session.commit()
    return user


async def test_users_round_trip_and_update(session: AsyncSession) -> None:
    users = SqlaUserRepository(session)
    user = await add_user(session, "alice", "alice@example.org")
    assert (await users.get_by_sub("alice")) == user
    assert (await users.get_by_email("alice@example.org")) == user
    user.full_name = "Alice Liddell"
    await users.update(user)
    await session.commit()
    fetched = await users.get(user.id)
    assert fetched is not None
    assert fetched.full_name == "Alice Liddell"


async def test_rooms_round_trip_with_configuration(session: AsyncSession, room_reader: SqlaRoomReader) -> None:
    rooms = SqlaRoomRepository(session)
    room = Room.create(
        "Réunion",
        AccessLevel.TRUSTED,
        RoomConfiguration(can_publish_sources=(TrackSource.MICROPHONE,), everyone_can_mute=True),
    )
    await rooms.add(room)
    await session.commit()
    fetched = await room_reader.room_by_slug("reunion")
    assert fetched is not None
    assert fetched.id == room.id
    assert fetched.access_level is AccessLevel.TRUSTED
    assert fetched.configuration == room.configuration
    empty = Room.create("Silent", configuration=RoomConfiguration(can_publish_sources=()))
    await rooms.add(empty)
    await session.commit()
    silent = await rooms.get(empty.id)
    assert silent is not None
    assert silent.configuration.can_publish_sources == ()


async def test_a_duplicate_slug_is_a_domain_error_and_the_session_stays_usable(
    session: AsyncSession, room_reader: SqlaRoomReader
) -> None:
    rooms = SqlaRoomRepository(session)
    await rooms.add(Room.create("Daily"))
    await session.commit()
    with pytest.raises(RoomSlugTaken):
        await rooms.add(Room.create("daily"))
    await rooms.add(Room.create("Weekly"))
    await session.commit()
    assert await room_reader.room_by_slug("weekly") is not None


async def test_accesses_are_unique_per_room_and_user(session: AsyncSession, room_reader: SqlaRoomReader) -> None:
    user = await add_user(session, "alice")
    room = await SqlaRoomRepository(session).add(Room.create("Daily"))
    accesses = SqlaRoomAccessRepository(session)
    await accesses.add(RoomAccess.grant(room.id, user.id, Role.OWNER))
    await session.commit()
    with pytest.raises(AccessAlreadyExists):
        await accesses.add(RoomAccess.grant(room.id, user.id, Role.MEMBER))
    await session.commit()
    assert await room_reader.role_of(room.id, user.id) is Role.OWNER
    assert await accesses.count_owners(room.id) == 1


async def test_listing_rooms_for_a_user_pages_and_counts(session: AsyncSession, room_reader: SqlaRoomReader) -> None:
    alice, bob = await add_user(session, "alice"), await add_user(session, "bob")
    rooms, accesses = SqlaRoomRepository(session), SqlaRoomAccessRepository(session)
    for n in range(5):
        room = await rooms.add(Room.create(f"Room {n}"))
        await accesses.add(RoomAccess.grant(room.id, alice.id, Role.MEMBER if n % 2 else Role.OWNER))
    other = await rooms.add(Room.create("Bob's"))
    await accesses.add(RoomAccess.grant(other.id, bob.id, Role.OWNER))
    await session.commit()
    page, total = await room_reader.rooms_of(alice.id, limit=2, offset=0)
    assert total == 5
    assert len(page) == 2
    rest, _ = await room_reader.rooms_of(alice.id, limit=10, offset=2)
    assert {r.name for r, _ in [*page, *rest]} == {f"Room {n}" for n in range(5)}


async def test_deleting_a_room_deletes_its_accesses(session: AsyncSession) -> None:
    user = await add_user(session, "alice")
    rooms, accesses = SqlaRoomRepository(session), SqlaRoomAccessRepository(session)
    room = await rooms.add(Room.create("Daily"))
    access = await accesses.add(RoomAccess.grant(room.id, user.id, Role.OWNER))
    await session.commit()
    await rooms.delete(room.id)
    await session.commit()
    assert await rooms.get(room.id) is None
    assert await accesses.get(access.id) is None


async def test_a_join_lookup_costs_one_query_per_read_whatever_the_data_size(engine: AsyncEngine) -> None:
    async with create_session_factory(engine)() as session:
        user = await add_user(session, "alice")
        rooms, accesses = SqlaRoomRepository(session), SqlaRoomAccessRepository(session)
        for n in range(30):
            room = await rooms.add(Room.create(f"Room {n}"))
            await accesses.add(RoomAccess.grant(room.id, user.id, Role.OWNER))
        await session.commit()
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    reader = SqlaRoomReader(create_read_session_factory(engine))
    found = await reader.room_by_slug("room-17")
    assert found is not None
    assert await reader.role_of(found.id, user.id) is Role.OWNER
    assert len(statements) == 2, statements


async def test_migrations_go_down_and_up_again(engine: AsyncEngine) -> None:
    await downgrade(engine, "base")
    await upgrade(engine)
    async with create_session_factory(engine)() as session:
        await add_user(session, "alice")
