"""Tables. advanced-alchemy's audit base gives UUID keys and UTC created/updated columns."""

from __future__ import annotations

import uuid
from typing import Any

from advanced_alchemy.base import UUIDAuditBase
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from meet.adapters.sql.tables import ACCESS_TABLE, ROOM_TABLE, USER_TABLE


class as_row:  # noqa: N801 - reads as the function it stands for
    """An ORM instance seen as the row ``meet.adapters.sql.rows`` maps to the domain (columns by name)."""

    __slots__ = ("_model",)

    def __init__(self, model: UUIDAuditBase) -> None:
        self._model = model

    def __getitem__(self, column: str) -> Any:
        return getattr(self._model, column)


class UserModel(UUIDAuditBase):
    __tablename__ = USER_TABLE

    sub: Mapped[str] = mapped_column(String(255), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True, default=None)
    full_name: Mapped[str | None] = mapped_column(String(255), default=None)
    short_name: Mapped[str | None] = mapped_column(String(255), default=None)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    default_room_access_level: Mapped[str | None] = mapped_column(String(20), default=None)
    default_room_configuration: Mapped[dict[str, Any] | None] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=None
    )


class RoomModel(UUIDAuditBase):
    __tablename__ = ROOM_TABLE

    name: Mapped[str] = mapped_column(String(500))
    slug: Mapped[str] = mapped_column(String(500), unique=True)
    access_level: Mapped[str] = mapped_column(String(20), default="public")
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON().with_variant(JSONB(), "postgresql"), default=dict)


class RoomAccessModel(UUIDAuditBase):
    __tablename__ = ACCESS_TABLE
    __table_args__ = (
        UniqueConstraint("room_id", "user_id", name="uq_meet_room_access_room_user"),
        Index("ix_meet_room_access_user", "user_id"),
    )

    room_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{ROOM_TABLE}.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{USER_TABLE}.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
