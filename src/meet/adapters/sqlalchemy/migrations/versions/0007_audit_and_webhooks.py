"""Audit chains per room, webhook endpoints and their outbox.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "meet_audit_chain",
        sa.Column("room_id", GUID(length=16), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger, nullable=False),
        sa.Column("anchor_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "meet_audit_entry",
        sa.Column("room_id", GUID(length=16), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True),
        sa.Column("id", GUID(length=16), nullable=False, unique=True),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", _json, nullable=False),
        sa.Column("details", _json, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_meet_audit_entry_room_at", "meet_audit_entry", ["room_id", "at", "seq"])
    op.create_table(
        "meet_webhook_endpoint",
        sa.Column("id", GUID(length=16), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("previous_secret", sa.Text, nullable=True),
        sa.Column("previous_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
    )
    op.create_table(
        "meet_webhook_subscription",
        sa.Column(
            "endpoint_id",
            GUID(length=16),
            sa.ForeignKey("meet_webhook_endpoint.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event_type", sa.String(40), primary_key=True),
    )
    op.create_index("ix_meet_webhook_subscription_type", "meet_webhook_subscription", ["event_type"])
    op.create_table(
        "meet_webhook_outbox",
        sa.Column("event_id", GUID(length=16), primary_key=True),
        sa.Column(
            "endpoint_id",
            GUID(length=16),
            sa.ForeignKey("meet_webhook_endpoint.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event_type", sa.String(40), nullable=False),
        sa.Column("room_id", GUID(length=16), nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("delivered_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    op.create_index("ix_meet_webhook_outbox_due", "meet_webhook_outbox", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("meet_webhook_outbox")
    op.drop_table("meet_webhook_subscription")
    op.drop_table("meet_webhook_endpoint")
    op.drop_table("meet_audit_entry")
    op.drop_table("meet_audit_chain")
