"""The recordings table, on the same declarative base (and metadata) as ``models``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from meet.adapters.sql.tables import RECORDING_TABLE, ROOM_TABLE, USER_TABLE, value_in
from meet.domain.recordings.model import ONGOING, RecordingMode, RecordingStatus

ONGOING_STATUSES = value_in("status", ONGOING)
KNOWN_STATUSES = value_in("status", RecordingStatus)
KNOWN_MODES = value_in("mode", RecordingMode)


class RecordingModel(UUIDAuditBase):
    __tablename__ = RECORDING_TABLE
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
        CheckConstraint(KNOWN_STATUSES, name="ck_meet_recording_status"),
        CheckConstraint(KNOWN_MODES, name="ck_meet_recording_mode"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{ROOM_TABLE}.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    egress_id: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(f"{USER_TABLE}.id", ondelete="SET NULL"), default=None
    )
    saved_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
