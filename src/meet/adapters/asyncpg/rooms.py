from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from meet.adapters.asyncpg.pool import postgres_errors
from meet.adapters.sql.rows import access_from_row, room_from_row
from meet.adapters.sql.tables import ACCESS_TABLE, ROOM_COLUMNS, ROOM_TABLE
from meet.domain.rooms.model import Role, Room, RoomAccess

_ROOM = ", ".join(ROOM_COLUMNS)
_ROOM_BY_ID = f"SELECT {_ROOM} FROM {ROOM_TABLE} WHERE id = $1"  # noqa: S608 - constant names, bound values
_ROOM_BY_SLUG = f"SELECT {_ROOM} FROM {ROOM_TABLE} WHERE slug = $1"  # noqa: S608
_ROLE = f"SELECT role FROM {ACCESS_TABLE} WHERE room_id = $1 AND user_id = $2"  # noqa: S608
_ROOMS_OF = (
    f"SELECT {', '.join(f'r.{c}' for c in ROOM_COLUMNS)}, a.role AS role FROM {ROOM_TABLE} r "  # noqa: S608
    f"JOIN {ACCESS_TABLE} a ON a.room_id = r.id WHERE a.user_id = $1 "
    "ORDER BY r.created_at DESC, r.id LIMIT $2 OFFSET $3"
)
_COUNT_ROOMS_OF = f"SELECT count(*) FROM {ACCESS_TABLE} WHERE user_id = $1"  # noqa: S608
_ACCESSES_OF = (
    f"SELECT id, room_id, user_id, role, created_at FROM {ACCESS_TABLE} "  # noqa: S608
    "WHERE room_id = $1 ORDER BY created_at"
)


class AsyncpgRoomReader:
    """``RoomReader`` in one indexed statement per question, on a pooled asyncpg connection.

    Outside any transaction, without the ORM: the lookups nearly every request starts with.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def room(self, room_id: uuid.UUID) -> Room | None:
        row = await self._fetchrow(_ROOM_BY_ID, room_id)
        return room_from_row(row) if row else None

    async def room_by_slug(self, slug: str) -> Room | None:
        row = await self._fetchrow(_ROOM_BY_SLUG, slug)
        return room_from_row(row) if row else None

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        row = await self._fetchrow(_ROLE, room_id, user_id)
        return Role(row["role"]) if row else None

    async def rooms_of(self, user_id: uuid.UUID, *, limit: int, offset: int) -> tuple[Sequence[tuple[Room, Role]], int]:
        async with postgres_errors():
            rows = await self._pool.fetch(_ROOMS_OF, user_id, limit, offset)
            total = await self._pool.fetchval(_COUNT_ROOMS_OF, user_id)
        return [(room_from_row(row), Role(row["role"])) for row in rows], int(total)

    async def accesses_of(self, room_id: uuid.UUID) -> Sequence[RoomAccess]:
        async with postgres_errors():
            rows = await self._pool.fetch(_ACCESSES_OF, room_id)
        return [access_from_row(row) for row in rows]

    async def _fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with postgres_errors():
            return await self._pool.fetchrow(query, *args)
