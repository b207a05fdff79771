"""User preferences: time zone, and the default access level and configuration of the rooms they create.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meet_user") as table:
        table.add_column(sa.Column("timezone", sa.String(64), nullable=True))
        table.add_column(sa.Column("default_room_access_level", sa.String(20), nullable=True))
        table.add_column(
            sa.Column("default_room_configuration", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("meet_user") as table:
        table.drop_column("default_room_configuration")
        table.drop_column("default_room_access_level")
        table.drop_column("timezone")
