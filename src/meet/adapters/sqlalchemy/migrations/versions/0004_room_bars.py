"""Bars of rooms (removals, denials), durable whatever happens to the cache.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meet_room_bar",
        sa.Column("room", sa.String(255), primary_key=True),
        sa.Column("identity", sa.String(255), primary_key=True),
        sa.Column("until", DateTimeUTC(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meet_room_bar")
