"""Users, rooms and room accesses.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _audit_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        # advanced-alchemy's insert sentinel, for batched INSERT ... RETURNING
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "meet_user",
        *_audit_columns(),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("full_name", sa.String(255), nullable=True),
        sa.Column("short_name", sa.String(255), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.UniqueConstraint("sub", name="uq_meet_user_sub"),
    )
    op.create_index("ix_meet_user_email", "meet_user", ["email"])
    op.create_table(
        "meet_room",
        *_audit_columns(),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("slug", sa.String(500), nullable=False),
        sa.Column("access_level", sa.String(20), nullable=False),
        sa.Column("configuration", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.UniqueConstraint("slug", name="uq_meet_room_slug"),
    )
    op.create_table(
        "meet_room_access",
        *_audit_columns(),
        sa.Column("room_id", GUID(length=16), sa.ForeignKey("meet_room.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", GUID(length=16), sa.ForeignKey("meet_user.id", ondelete="CASCADE"), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.UniqueConstraint("room_id", "user_id", name="uq_meet_room_access_room_user"),
    )
    op.create_index("ix_meet_room_access_user", "meet_room_access", ["user_id"])


def downgrade() -> None:
    op.drop_table("meet_room_access")
    op.drop_table("meet_room")
    op.drop_table("meet_user")
