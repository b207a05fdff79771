"""Registered applications in the database; each call is its own short transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import JSON, Boolean, Column, String, Table, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.sqlalchemy.errors import database_errors
from meet.adapters.sqlalchemy.models import UserModel
from meet.domain.applications.model import Application
from meet.domain.users.scopes import parse_scopes

application_table = Table(
    "meet_application",
    UserModel.metadata,
    Column("client_id", GUID(length=16), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("scopes", JSON(), nullable=False),
    Column("domains", JSON(), nullable=False),
    Column("emails", JSON(), nullable=False),
    Column("secret_hash", String(255), nullable=True),
    Column("public_key", Text(), nullable=True),
    Column("enabled", Boolean(), nullable=False),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
)


def _values(application: Application) -> dict[str, Any]:
    return {
        "name": application.name,
        "scopes": sorted(application.scopes),
        "domains": list(application.domains),
        "emails": list(application.emails),
        "secret_hash": application.secret_hash,
        "public_key": application.public_key,
        "enabled": application.enabled,
    }


def _application(row: Any) -> Application:
    return Application(
        client_id=row.client_id,
        name=row.name,
        scopes=parse_scopes(row.scopes),
        domains=tuple(row.domains),
        emails=tuple(row.emails),
        secret_hash=row.secret_hash,
        public_key=row.public_key,
        enabled=row.enabled,
        created_at=row.created_at,
    )


class SqlApplicationRegistry:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def add(self, application: Application) -> Application:
        values = {**_values(application), "client_id": application.client_id, "created_at": application.created_at}
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(application_table.insert().values(**values))
        return application

    async def get(self, client_id: uuid.UUID) -> Application | None:
        query = select(application_table).where(application_table.c.client_id == client_id)
        async with database_errors(), self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _application(row) if row else None

    async def all(self) -> Sequence[Application]:
        query = select(application_table).order_by(application_table.c.created_at, application_table.c.name)
        async with database_errors(), self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [_application(row) for row in rows]

    async def save(self, application: Application) -> None:
        statement = (
            update(application_table)
            .where(application_table.c.client_id == application.client_id)
            .values(**_values(application))
        )
        async with database_errors(), self._engine.begin() as connection:
            await connection.execute(statement)

    async def remove(self, client_id: uuid.UUID) -> bool:
        statement = delete(application_table).where(application_table.c.client_id == client_id)
        async with database_errors(), self._engine.begin() as connection:
            result = await connection.execute(statement)
        return bool(result.rowcount)
