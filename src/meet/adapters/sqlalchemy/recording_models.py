"""The recordings table, on the same declarative base (and metadata) as ``models``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

ONGOING_STATUSES = "status IN ('initiated', 'active')"


class RecordingModel(UUIDAuditBase):
    __tablename__ = "meet_recording"
    __table_args__ = (
        # At most one ongoing recording per room, enforced by the database (concurrent starts included).
        Index(
            "uq_meet_recording_room_ongoing",
            "room_id",
            unique=True,
            sqlite_where=text(ONGOING_STATUSES),
            postgresql_where=text(ONGOING_STATUSES),
        ),
        Index("ix_meet_recording_room_created", "room_id", "created_at"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meet_room.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    egress_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("meet_user.id", ondelete="SET NULL"), default=None)
    saved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
