"""Alembic, driven from code: ``meet db upgrade`` and the embedded default call ``upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))


async def revisions(engine: AsyncEngine) -> tuple[str | None, str]:
    """The database's current revision (None before the first migration) and the code's latest one."""
    from alembic.runtime.migration import MigrationContext  # noqa: PLC0415 - only checks need it
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    async with engine.connect() as connection:
        current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    return current, str(head)


class MigrationHealth:
    """The database answers and carries every migration this code needs."""

    name = "migrations"

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> None:
        current, head = await revisions(self._engine)
        if current != head:
            raise RuntimeError(f"at migration {current or 'none'}, the code needs {head}: run `meet db upgrade`")
