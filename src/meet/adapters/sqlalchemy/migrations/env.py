from __future__ import annotations

from alembic import context

from meet.adapters.sqlalchemy import (
    bars,  # noqa: F401 - registers its table in the metadata
    models,
    recording_models,  # noqa: F401 - registers its table in the metadata
)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through meet.adapters.sqlalchemy.migrate (meet db upgrade).")

context.configure(
    connection=connection,
    target_metadata=models.UserModel.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
