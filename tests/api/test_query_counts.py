"""Request paths issue a fixed number of SQL statements, whatever the size of the data (counted, never timed).

Each test runs a request against a small database and against one with many more rows (other rooms,
other users' accesses, more of the caller's own rooms, more people waiting), and asserts that the same
request issues exactly as many statements, and no more than a small bound. Statements are counted on
both ways the app reaches the database: its SQLAlchemy engine (``before_cursor_execute``) and, on
PostgreSQL, the asyncpg pool of the room reader (a query logger on each of its connections).
The same counts hold on PostgreSQL directly and through PgBouncer in transaction pooling mode.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
from dishka import Provider, Scope, provide
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.asyncpg.pool import read_pool_for
from meet.adapters.asyncpg.rooms import AsyncpgRoomReader
from meet.adapters.sqlalchemy.database import create_engine, create_session_factory
from meet.adapters.sqlalchemy.unit_of_work import SqlaTransaction, SqlaUnitOfWork
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess
from meet.domain.rooms.ports import RoomReader
from meet.domain.users.model import User
from meet.entrypoints.settings import Settings
from tests.api.conftest import Api
from tests.support.pgbouncer import PgBouncer

MANY = 200


@pytest.fixture(params=["sqlite", "postgresql", "pgbouncer"])
def database(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    direct = str(request.getfixturevalue("fresh_postgres_database"))
    if request.param == "pgbouncer":  # transaction pooling: the same statements, none of them prepared by name
        bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
        return {"database_url": bouncer.through(direct), "database_pgbouncer": "true"}
    return {"database_url": direct}


class Statements:
    """Where both database paths report their statements while a ``counted`` block is open."""

    def __init__(self) -> None:
        self.current: list[str] | None = None
        self.through_asyncpg: list[str] = []

    def record(self, statement: str) -> None:
        if self.current is not None:
            self.current.append(statement)

    def record_asyncpg(self, statement: str) -> None:
        self.through_asyncpg.append(statement)
        self.record(statement)


class ObservedRoomReads(Provider):
    """The asyncpg room reader the composition root picks on PostgreSQL, with its statements observed."""

    def __init__(self, statements: Statements) -> None:
        super().__init__()
        self._statements = statements

    @provide(scope=Scope.APP)
    async def rooms(self, settings: Settings) -> AsyncIterator[RoomReader]:
        async with read_pool_for(
            settings.database, size=2, observe=self._statements.record_asyncpg, pgbouncer=settings.database_pgbouncer
        ) as pool:
            yield AsyncpgRoomReader(pool)


@asynccontextmanager
async def started(api_with: Any, database: dict[str, str]) -> AsyncIterator[tuple[Api, Statements]]:
    statements = Statements()
    overrides = [ObservedRoomReads(statements)] if database else []
    async with api_with(*overrides, **database) as api:
        engine = await api.client.app.state.dishka_container.get(AsyncEngine)
        event.listen(engine.sync_engine, "before_cursor_execute", _forward_to(statements))
        yield api, statements


def _forward_to(statements: Statements) -> Any:
    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.record(statement)

    return record


@asynccontextmanager
async def writer(api: Api) -> AsyncIterator[SqlaTransaction]:
    """A transaction on an engine of the test's own: the app's engine belongs to the test client's event loop."""
    engine = create_engine(api.settings.database, pgbouncer=api.settings.database_pgbouncer)
    try:
        async with SqlaUnitOfWork(create_session_factory(engine)).begin() as tx:
            yield tx
    finally:
        await engine.dispose()


@contextmanager
def counted(statements: Statements) -> Iterator[list[str]]:
    issued: list[str] = []
    statements.current = issued
    try:
        yield issued
    finally:
        statements.current = None


async def add_rows(api: Api, *, rooms: int, owner: uuid.UUID | None = None, members: int = 0) -> list[Room]:
    """``rooms`` more rooms (owned by ``owner``, else by a stranger) and ``members`` strangers in the first one."""
    added = []
    async with writer(api) as tx:
        users, room_repo, accesses = tx.users, tx.rooms, tx.accesses
        stranger = await users.add(User(id=uuid.uuid4(), sub=f"stranger-{uuid.uuid4().hex}", full_name="Stranger"))
        for _ in range(rooms):
            room = await room_repo.add(Room.create(f"Filler {uuid.uuid4().hex[:12]}", AccessLevel.RESTRICTED))
            await accesses.add(RoomAccess.grant(room.id, owner or stranger.id, Role.OWNER))
            added.append(room)
        for n in range(members):
            user = await users.add(User(id=uuid.uuid4(), sub=f"member-{uuid.uuid4().hex}", full_name=f"M {n}"))
            await accesses.add(RoomAccess.grant(added[0].id, user.id, Role.MEMBER))
    return added


async def statements_for(api: Api, statements: Statements, method: str, url: str, **kwargs: Any) -> list[str]:
    with counted(statements) as issued:
        response = await api.request(method, url, **kwargs)
    assert response.status_code < 300, response.text
    return issued


def assert_same(small: list[str], large: list[str], *, at_most: int) -> None:
    assert len(large) == len(small), {"small": small, "large": large}
    assert 1 <= len(small) <= at_most, small


async def test_opening_a_public_room_reads_no_database_once_the_process_holds_its_copy(
    api_with: Any, database: dict[str, str]
) -> None:
    async with started(api_with, database) as (api, statements):
        await api.sign_in("owner")
        room, other = await api.create_room("owner", "Town hall"), await api.create_room("owner", "Other")
        cold = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['slug']}")
        warm = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['slug']}")
        by_id_cold = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}")
        by_id_warm = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}")
        await add_rows(api, rooms=MANY)
        for url in (f"/api/v1/rooms/{room['slug']}", f"/api/v1/rooms/{room['id']}"):
            await api.request("GET", url)  # a copy older than MAX_AGE is read again: warm it first
        large = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['slug']}")
        by_id_large = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}")
        cold_large = await statements_for(api, statements, "GET", f"/api/v1/rooms/{other['slug']}")
    # Cold: the room, then the room again under its stamp (taken in between, in Redis or memory).
    assert len(cold) == len(by_id_cold) == len(cold_large) == 2, (cold, by_id_cold, cold_large)
    # Warm: the process's copy, checked against the room's stamp; no SQL, however many rooms.
    assert warm == by_id_warm == large == by_id_large == [], (warm, by_id_warm, large, by_id_large)
    if database:  # on PostgreSQL the join's read skips SQLAlchemy (see docs/performance.md)
        assert set(cold + by_id_cold + cold_large) <= set(statements.through_asyncpg)


async def test_a_member_joining_reads_no_database_once_the_process_holds_the_room_and_the_role(
    api_with: Any, database: dict[str, str]
) -> None:
    async with started(api_with, database) as (api, statements):
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board", access_level="restricted")
        await api.grant("owner", room["id"], "member", "member")
        cold = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}", user="member")
        warm = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}", user="member")
        await api.grant("owner", room["id"], "other", "member")  # an access change: the room's copy is stale
        renewed = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}", user="member")
        member = await api.request("GET", "/api/v1/users/me", user="member")
        await add_rows(api, rooms=MANY, owner=uuid.UUID(member.json()["id"]))
        await add_rows(api, rooms=MANY, members=MANY)
        await api.request("GET", f"/api/v1/rooms/{room['id']}", user="member")  # older than MAX_AGE: read again
        large = await statements_for(api, statements, "GET", f"/api/v1/rooms/{room['id']}", user="member")
    # Cold: the room twice (around taking its stamp), the caller's role, and the room's bars (the first
    # look at them in a process, with the in-memory stores of this test; Redis shares them, loaded once).
    assert len(cold) == 4, cold
    assert warm == large == [], {"warm": warm, "large": large}
    assert len(renewed) == 3, renewed  # the room twice, the role: the bars were not affected


async def test_listing_my_rooms_costs_the_same_with_many_rooms(api_with: Any, database: dict[str, str]) -> None:
    async with started(api_with, database) as (api, statements):
        owner = await api.sign_in("owner")
        await api.create_room("owner", "Mine")
        small = await statements_for(api, statements, "GET", "/api/v1/rooms?limit=100", user="owner")
        await add_rows(api, rooms=MANY, owner=uuid.UUID(owner["id"]))
        await add_rows(api, rooms=MANY)
        with counted(statements) as large:
            response = await api.request("GET", "/api/v1/rooms?limit=100", user="owner")
        assert response.json()["count"] == MANY + 1
        assert len(response.json()["results"]) == 100
    assert_same(small, large, at_most=2)  # one page, one count


async def test_listing_a_rooms_accesses_costs_the_same_with_many_members(
    api_with: Any, database: dict[str, str]
) -> None:
    async with started(api_with, database) as (api, statements):
        owner = await api.sign_in("owner")
        room = await api.create_room("owner", "Crowded")
        url = f"/api/v1/rooms/{room['id']}/accesses"
        small = await statements_for(api, statements, "GET", url, user="owner")
        # The same room with many more members: grant them straight in the database.
        async with writer(api) as tx:
            for n in range(MANY):
                user = await tx.users.add(User(id=uuid.uuid4(), sub=f"member-{n}", full_name=f"Member {n}"))
                await tx.accesses.add(RoomAccess.grant(uuid.UUID(room["id"]), user.id, Role.MEMBER))
        await add_rows(api, rooms=MANY, owner=uuid.UUID(owner["id"]))
        with counted(statements) as large:
            response = await api.request("GET", url, user="owner")
        assert response.status_code == 200, response.text
    assert_same(small, large, at_most=3)  # the room, the caller's role, the accesses


async def test_knocking_and_listing_the_waiting_cost_the_same_with_many_waiting(
    api_with: Any, database: dict[str, str]
) -> None:
    async with started(api_with, database) as (api, statements):
        await api.sign_in("owner")
        room = await api.create_room("owner", "Lobby", access_level="restricted")
        knock, waiting = f"/api/v1/rooms/{room['id']}/request-entry", f"/api/v1/rooms/{room['id']}/waiting-participants"
        first = await statements_for(api, statements, "POST", knock, json={"username": "First"})
        knock_small = await statements_for(api, statements, "POST", knock, json={"username": "Second"})
        list_first = await statements_for(api, statements, "GET", waiting, user="owner")
        list_small = await statements_for(api, statements, "GET", waiting, user="owner")
        for n in range(60):
            await api.request("POST", knock, json={"username": f"Guest {n}"})
        await add_rows(api, rooms=MANY)
        knock_large = await statements_for(api, statements, "POST", knock, json={"username": "Last"})
        with counted(statements) as list_large:
            response = await api.request("GET", waiting, user="owner")
        assert response.json()["count"] == 63
    # The first knock reads the room twice (its id, then the room under its stamp) and the room's bars once
    # (a newcomer's knock checks whether its address is blocked, so the bars cache must be loaded, once per
    # room and cache lifetime); later knocks use this process's copy, which the lobby's own step checks: no
    # SQL at all, however many wait.
    assert len(first) == 3, first
    assert "meet_room_bar" in first[-1], first
    assert knock_small == knock_large == [], {"small": knock_small, "large": knock_large}
    # The first listing reads the owner's role into the room's copy; then the copy and the role serve,
    # checked by the listing's own script: no SQL, however many wait.
    assert len(list_first) == 1, list_first
    assert list_small == list_large == [], {"small": list_small, "large": list_large}
