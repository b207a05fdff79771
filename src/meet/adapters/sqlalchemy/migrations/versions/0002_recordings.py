"""Recordings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from meet.adapters.sql.tables import value_in
from meet.domain.recordings.model import ONGOING

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ONGOING_STATUSES = value_in("status", ONGOING)


def upgrade() -> None:
    op.create_table(
        "meet_recording",
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("room_id", GUID(length=16), sa.ForeignKey("meet_room.id", ondelete="CASCADE"), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("egress_id", sa.String(255), nullable=True),
        sa.Column("options", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_by", GUID(length=16), sa.ForeignKey("meet_user.id", ondelete="SET NULL"), nullable=True),
        sa.Column("saved_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
        sa.UniqueConstraint("egress_id", name="uq_meet_recording_egress_id"),
    )
    op.create_index(
        "uq_meet_recording_room_ongoing",
        "meet_recording",
        ["room_id"],
        unique=True,
        sqlite_where=sa.text(ONGOING_STATUSES),
        postgresql_where=sa.text(ONGOING_STATUSES),
    )
    op.create_index("ix_meet_recording_room_created", "meet_recording", ["room_id", "created_at"])


def downgrade() -> None:
    op.drop_table("meet_recording")
