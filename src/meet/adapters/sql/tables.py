"""The tables as the Alembic migrations create them, named once for every driver."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

USER_TABLE = "meet_user"
ROOM_TABLE = "meet_room"
ACCESS_TABLE = "meet_room_access"
RECORDING_TABLE = "meet_recording"

ROOM_COLUMNS = ("id", "name", "slug", "access_level", "configuration", "created_at", "updated_at")


def value_in(column: str, values: Iterable[StrEnum]) -> str:
    """An SQL condition ``column IN ('a', 'b')`` over domain enum values (sorted, so the text is stable)."""
    listed = ", ".join(f"'{value.value}'" for value in sorted(values, key=lambda value: value.value))
    return f"{column} IN ({listed})"
