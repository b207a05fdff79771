"""``RoomBars`` in the database: the durable copy, which outlives every cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import Column, String, Table, case, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import UserModel
from meet.domain.conference.bars import BarReason

room_bar = Table(
    "meet_room_bar",
    UserModel.metadata,
    Column("room", String(255), primary_key=True),  # the SFU room name, as the lobby knows it
    Column("identity", String(255), primary_key=True),
    Column("until", DateTimeUTC(timezone=True), nullable=False),
)


class SqlRoomBars:
    """One row per (room, identity); a bar recorded again keeps the later end (the reason is not stored:
    every reason keeps out alike). Each call is its own short transaction, outside any request's unit of
    work (a bar holds whether or not the rest commits)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def bar(self, room: str, identity: str, until: datetime, reason: BarReason) -> None:  # noqa: ARG002
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(room_bar).values(room=room, identity=identity, until=until)
        later = case((insert.excluded.until > room_bar.c.until, insert.excluded.until), else_=room_bar.c.until)
        upsert = insert.on_conflict_do_update(index_elements=["room", "identity"], set_={"until": later})
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(upsert)

    async def barred(self, room: str, identities: Sequence[str], now: datetime) -> frozenset[str]:
        if not identities:
            return frozenset()
        query = select(room_bar.c.identity).where(
            room_bar.c.room == room, room_bar.c.identity.in_(identities), room_bar.c.until > now
        )
        async with database_errors(), self._engine.connect() as connection:
            return frozenset((await connection.execute(query)).scalars())

    async def active(self, room: str, now: datetime) -> Mapping[str, datetime]:
        query = select(room_bar.c.identity, room_bar.c.until).where(room_bar.c.room == room, room_bar.c.until > now)
        async with database_errors(), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {identity: until for identity, until in rows}  # noqa: C416 - rows are Row objects
