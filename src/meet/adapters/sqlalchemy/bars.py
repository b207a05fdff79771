"""``RoomBars`` in the database: the durable copy, which outlives every cache."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import ARRAY, Column, String, Table, case, func, literal, select, true
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


def _keeping_the_later_end(insert: Any) -> Any:
    """An upsert of bars: a bar recorded again keeps the later of its two ends."""
    later = case((insert.excluded.until > room_bar.c.until, insert.excluded.until), else_=room_bar.c.until)
    return insert.on_conflict_do_update(index_elements=["room", "identity"], set_={"until": later})


class SqlRoomBars:
    """One row per (room, identity); a bar recorded again keeps the later end (the reason is not stored:
    every reason keeps out alike). Each call is its own short transaction, outside any request's unit of
    work (a bar holds whether or not the rest commits)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def bar(self, room: str, identity: str, until: datetime, reason: BarReason) -> None:  # noqa: ARG002
        insert = self._dialect.insert(room_bar).values(room=room, identity=identity, until=until)
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(_keeping_the_later_end(insert))

    async def bar_many(self, room: str, identities: Sequence[str], until: datetime, reason: BarReason) -> None:  # noqa: ARG002
        """One statement with three parameters however many identities there are (a deny-all of 10,000):
        the identities travel as one array (PostgreSQL's ``unnest``) or one JSON text (SQLite's
        ``json_each``), so no bound-parameter limit is ever reached."""
        if not identities:
            return
        if self._engine.dialect.name == "postgresql":
            listed = select(func.unnest(literal(list(identities), ARRAY(String))).column_valued("identity"))
        else:
            listed = select(func.json_each(literal(json.dumps(list(identities)))).table_valued("value").c.value)
        names = listed.subquery()
        rows = select(literal(room, String), names.c[0], literal(until, DateTimeUTC(timezone=True)))
        insert = self._dialect.insert(room_bar).from_select(["room", "identity", "until"], rows.where(true()))
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(_keeping_the_later_end(insert))

    @property
    def _dialect(self) -> Any:
        return postgresql if self._engine.dialect.name == "postgresql" else sqlite

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
