from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from meet.adapters.asyncpg.pool import postgres_errors
from meet.adapters.sqlalchemy.mapping import configuration_from_json
from meet.domain.rooms.model import AccessLevel, Role, Room

# The tables of meet.adapters.sqlalchemy.models, as the Alembic migrations create them.
_ROOM_BY_ID = "SELECT id, name, slug, access_level, configuration, created_at, updated_at FROM meet_room WHERE id = $1"
_ROOM_BY_SLUG = (
    "SELECT id, name, slug, access_level, configuration, created_at, updated_at FROM meet_room WHERE slug = $1"
)
_ROLE = "SELECT role FROM meet_room_access WHERE room_id = $1 AND user_id = $2"


class AsyncpgRoomReads:
    """``RoomLookup`` and ``RoleLookup`` in one indexed statement each, on a pooled asyncpg connection.

    Outside any transaction: only for request paths that write nothing to the database.
    """

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def get(self, room_id: uuid.UUID) -> Room | None:
        return _room(await self._fetchrow(_ROOM_BY_ID, room_id))

    async def get_by_slug(self, slug: str) -> Room | None:
        return _room(await self._fetchrow(_ROOM_BY_SLUG, slug))

    async def role_of(self, room_id: uuid.UUID, user_id: uuid.UUID) -> Role | None:
        row = await self._fetchrow(_ROLE, room_id, user_id)
        return Role(row["role"]) if row else None

    async def _fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        async with postgres_errors():
            return await self._pool.fetchrow(query, *args)


def _room(row: asyncpg.Record | None) -> Room | None:
    if row is None:
        return None
    return Room(
        # asyncpg answers its own UUID type; the domain and the serializers expect the standard one.
        id=uuid.UUID(bytes=row["id"].bytes),
        name=row["name"],
        slug=row["slug"],
        access_level=AccessLevel(row["access_level"]),
        configuration=configuration_from_json(row["configuration"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
