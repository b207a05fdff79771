"""``SqlaRecordingRepository`` on SQLite and PostgreSQL (the ``database_url`` fixture runs each test on both)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from meet.adapters.sqlalchemy.database import create_session_factory
from meet.adapters.sqlalchemy.migrate import downgrade, upgrade
from meet.adapters.sqlalchemy.readers import SqlaRecordingReader
from meet.adapters.sqlalchemy.recordings import SqlaRecordingRepository
from meet.adapters.sqlalchemy.repositories import SqlaRoomAccessRepository, SqlaRoomRepository, SqlaUserRepository
from meet.adapters.sqlalchemy.unit_of_work import SqlaUnitOfWork
from meet.domain.recordings.errors import RecordingInProgress
from meet.domain.recordings.model import Recording, RecordingMode, RecordingOptions, RecordingStatus
from meet.domain.rooms.model import Role, Room, RoomAccess
from meet.domain.users.model import User

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def room_with(session: AsyncSession, name: str, **members: Role) -> Room:
    room = await SqlaRoomRepository(session).add(Room.create(name))
    for sub, role in members.items():
        user = await SqlaUserRepository(session).get_by_sub(sub)
        if user is None:
            user = await SqlaUserRepository(session).add(User(id=uuid.uuid4(), sub=sub))
        await SqlaRoomAccessRepository(session).add(RoomAccess.grant(room.id, user.id, role))
    await session.commit()
    return room


async def user_id(session: AsyncSession, sub: str) -> uuid.UUID:
    user = await SqlaUserRepository(session).get_by_sub(sub)
    assert user is not None
    return user.id


async def test_a_recording_round_trips_through_its_life(session: AsyncSession) -> None:
    room = await room_with(session, "Board", owner=Role.OWNER)
    recordings = SqlaRecordingRepository(session)
    recording = Recording.initiate(
        room.id,
        RecordingMode.TRANSCRIPT,
        created_by=await user_id(session, "owner"),
        options=RecordingOptions(language="fr"),
        now=T0,
    )
    await recordings.add(recording)
    recording.egress_started("EG_1")
    recording.egress_reported("active")
    await recordings.update(recording)
    await session.commit()
    assert await recordings.get(recording.id) == recording
    assert await recordings.get_by_egress_id("EG_1") == recording
    assert await recordings.ongoing_in_room(room.id) == recording

    recording.stop()
    recording.save(T0 + timedelta(minutes=5), timedelta(days=30))
    await recordings.update(recording)
    await session.commit()

    fetched = await recordings.get(recording.id)
    assert fetched == recording
    assert fetched is not None
    assert fetched.status is RecordingStatus.SAVED
    assert fetched.expires_at == T0 + timedelta(days=30, minutes=5)
    assert fetched.expires_at is not None
    assert fetched.expires_at.tzinfo is not None
    assert await recordings.ongoing_in_room(room.id) is None
    assert await recordings.get_by_egress_id("EG_unknown") is None


async def test_the_database_allows_one_ongoing_recording_per_room(session: AsyncSession) -> None:
    room = await room_with(session, "Board", owner=Role.OWNER)
    other = await room_with(session, "Other", owner=Role.OWNER)
    recordings = SqlaRecordingRepository(session)
    first = await recordings.add(Recording.initiate(room.id, RecordingMode.SCREEN_RECORDING, created_by=None))
    await session.commit()

    with pytest.raises(RecordingInProgress):
        await recordings.add(Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None))
    await recordings.add(Recording.initiate(other.id, RecordingMode.TRANSCRIPT, created_by=None))  # still usable
    await session.commit()

    first.fail_to_start()
    await recordings.update(first)
    await session.commit()
    again = await recordings.add(Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None))
    await session.commit()
    assert await recordings.ongoing_in_room(room.id) == again


async def test_concurrent_starts_in_one_room_leave_one_ongoing_recording(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        room = await room_with(session, "Board", owner=Role.OWNER)

    async def start() -> bool:
        async with sessions() as session:
            try:
                await SqlaRecordingRepository(session).add(
                    Recording.initiate(room.id, RecordingMode.SCREEN_RECORDING, created_by=None)
                )
                await session.commit()
            except RecordingInProgress:
                return False
            return True

    results = await asyncio.gather(*(start() for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]


async def test_admins_list_the_recordings_of_their_rooms_newest_first(
    session: AsyncSession, recording_reader: SqlaRecordingReader
) -> None:
    board = await room_with(session, "Board", alice=Role.OWNER, bob=Role.MEMBER)
    team = await room_with(session, "Team", bob=Role.ADMINISTRATOR, alice=Role.ADMINISTRATOR)
    recordings = SqlaRecordingRepository(session)
    made = []
    for minute, room in enumerate((board, team, board)):
        recording = Recording.initiate(
            room.id, RecordingMode.TRANSCRIPT, created_by=None, now=T0 + timedelta(minutes=minute)
        )
        recording.fail_to_start()
        made.append(await recordings.add(recording))
    await session.commit()

    alice = await user_id(session, "alice")
    mine, total = await recording_reader.administered_by(alice, limit=2, offset=0)
    assert ([r.id for r in mine], total) == ([made[2].id, made[1].id], 3)
    rest, _ = await recording_reader.administered_by(alice, limit=2, offset=2)
    assert [r.id for r in rest] == [made[0].id]
    bobs, total = await recording_reader.administered_by(await user_id(session, "bob"), limit=10, offset=0)
    assert ([r.id for r in bobs], total) == ([made[1].id], 1)  # a member of Board sees none of its recordings


async def test_deleting_a_recording_or_its_room(session: AsyncSession) -> None:
    room = await room_with(session, "Board", owner=Role.OWNER)
    recordings = SqlaRecordingRepository(session)
    kept = await recordings.add(Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None))
    kept.fail_to_start()
    await recordings.update(kept)
    gone = await recordings.add(Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None))
    elsewhere = await room_with(session, "Elsewhere", owner=Role.OWNER)
    await recordings.add(Recording.initiate(elsewhere.id, RecordingMode.TRANSCRIPT, created_by=None))
    await session.commit()
    assert {r.id for r in await recordings.list_in_room(room.id)} == {kept.id, gone.id}
    await recordings.delete(gone.id)
    await session.commit()
    assert await recordings.get(gone.id) is None
    assert await recordings.get(kept.id) is not None
    await SqlaRoomRepository(session).delete(room.id)
    await session.commit()
    assert await recordings.get(kept.id) is None


async def test_a_unit_of_work_commits_when_its_block_ends(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        room = await room_with(session, "Board", owner=Role.OWNER)
        recording = await SqlaRecordingRepository(session).add(
            Recording.initiate(room.id, RecordingMode.SCREEN_RECORDING, created_by=None)
        )
        recording.egress_started("EG_9")
        await SqlaRecordingRepository(session).update(recording)
        await session.commit()

    async with SqlaUnitOfWork(sessions).begin() as tx:
        found = await tx.recordings.get_by_egress_id("EG_9")
        assert found is not None
        assert await tx.rooms.get(found.room_id) == room
        found.egress_reported("active")
        await tx.recordings.update(found)

    async with sessions() as session:
        fetched = await SqlaRecordingRepository(session).get(recording.id)
        assert fetched is not None
        assert fetched.status is RecordingStatus.ACTIVE


async def test_a_unit_of_work_that_raises_leaves_nothing_behind(engine: AsyncEngine) -> None:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        room = await room_with(session, "Board", owner=Role.OWNER)
    recording = Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None)

    async def fail_half_way() -> None:
        async with SqlaUnitOfWork(sessions).begin() as tx:
            await tx.recordings.add(recording)
            await tx.rooms.delete(room.id)
            raise RuntimeError("the use case failed half-way")

    with pytest.raises(RuntimeError):
        await fail_half_way()
    async with sessions() as session:
        assert await SqlaRecordingRepository(session).get(recording.id) is None
        assert await SqlaRoomRepository(session).get(room.id) == room


async def test_the_database_refuses_a_status_the_domain_does_not_know(session: AsyncSession) -> None:
    room = await room_with(session, "Board", owner=Role.OWNER)
    recording = await SqlaRecordingRepository(session).add(
        Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None)
    )
    await session.commit()
    assert recording.status is RecordingStatus.INITIATED
    with pytest.raises(IntegrityError):
        await session.execute(text("UPDATE meet_recording SET status = 'paused'"))


async def test_the_recordings_migration_goes_down_and_up(engine: AsyncEngine) -> None:
    await downgrade(engine, "0001")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    assert "meet_recording" not in tables
    assert "meet_room" in tables
    await upgrade(engine)
    async with create_session_factory(engine)() as session:
        room = await room_with(session, "Board", owner=Role.OWNER)
        await SqlaRecordingRepository(session).add(
            Recording.initiate(room.id, RecordingMode.TRANSCRIPT, created_by=None)
        )
        await session.commit()
