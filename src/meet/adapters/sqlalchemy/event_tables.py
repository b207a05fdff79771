"""The audit chains and the webhook outbox, as migration 0007 creates them (SQLAlchemy Core tables)."""

from __future__ import annotations

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import JSON, BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from meet.adapters.sqlalchemy.models import UserModel

_json = JSON().with_variant(JSONB(), "postgresql")

audit_chain = Table(
    "meet_audit_chain",
    UserModel.metadata,
    Column("room_id", GUID(length=16), primary_key=True),  # no foreign key: a deleted room's log stays
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("anchor_seq", BigInteger, nullable=False),
    Column("anchor_hash", String(64), nullable=False),
)

audit_entry = Table(
    "meet_audit_entry",
    UserModel.metadata,
    Column("room_id", GUID(length=16), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("id", GUID(length=16), nullable=False, unique=True),
    Column("at", DateTimeUTC(timezone=True), nullable=False),
    Column("actor_kind", String(20), nullable=False),
    Column("actor_id", String(255), nullable=True),
    Column("action", String(40), nullable=False),
    Column("subject", _json, nullable=False),
    Column("details", _json, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_meet_audit_entry_room_at", "room_id", "at", "seq"),
)

webhook_endpoint = Table(
    "meet_webhook_endpoint",
    UserModel.metadata,
    Column("id", GUID(length=16), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("secret", Text, nullable=False),  # encrypted (see the webhooks adapter)
    Column("previous_secret", Text, nullable=True),
    Column("previous_until", DateTimeUTC(timezone=True), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("disabled_reason", String(500), nullable=True),
    Column("created_at", DateTimeUTC(timezone=True), nullable=False),
)

webhook_subscription = Table(
    "meet_webhook_subscription",
    UserModel.metadata,
    Column(
        "endpoint_id", GUID(length=16), ForeignKey("meet_webhook_endpoint.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("event_type", String(40), primary_key=True),
    Index("ix_meet_webhook_subscription_type", "event_type"),
)

webhook_outbox = Table(
    "meet_webhook_outbox",
    UserModel.metadata,
    Column("event_id", GUID(length=16), primary_key=True),
    Column(
        "endpoint_id", GUID(length=16), ForeignKey("meet_webhook_endpoint.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("event_type", String(40), nullable=False),
    Column("room_id", GUID(length=16), nullable=False),
    Column("at", DateTimeUTC(timezone=True), nullable=False),  # when the event took effect
    Column("payload", Text, nullable=False),  # the exact body every attempt sends (signed as is)
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),  # null once delivered
    Column("delivered_at", DateTimeUTC(timezone=True), nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_meet_webhook_outbox_due", "next_attempt_at"),
)
