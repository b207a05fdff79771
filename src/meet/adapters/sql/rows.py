"""Rows to domain objects and back, once for every driver: a row is any mapping of column to value
(an asyncpg ``Record``, a SQLAlchemy ``RowMapping``, or the columns of an ORM instance)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Protocol

from meet.domain.recordings.model import Recording, RecordingMode, RecordingOptions, RecordingStatus
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration, RoomDefaults, TrackSource
from meet.domain.users.model import User


class Row(Protocol):
    def __getitem__(self, column: str, /) -> Any: ...


def _uuid(value: Any) -> uuid.UUID:
    # asyncpg answers its own UUID subclass; the domain and the serializers expect the standard one.
    return value if type(value) is uuid.UUID else uuid.UUID(bytes=value.bytes)


def _optional_uuid(value: Any) -> uuid.UUID | None:
    return None if value is None else _uuid(value)


def configuration_to_json(configuration: RoomConfiguration) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if configuration.can_publish_sources is not None:
        data["can_publish_sources"] = [source.value for source in configuration.can_publish_sources]
    if configuration.everyone_can_mute is not None:
        data["everyone_can_mute"] = configuration.everyone_can_mute
    if configuration.max_participants is not None:
        data["max_participants"] = configuration.max_participants
    return data


def configuration_from_json(data: Mapping[str, Any] | None) -> RoomConfiguration:
    data = data or {}
    sources = data.get("can_publish_sources")
    return RoomConfiguration(
        can_publish_sources=None if sources is None else tuple(TrackSource(s) for s in sources),
        everyone_can_mute=data.get("everyone_can_mute"),
        max_participants=data.get("max_participants"),
    )


def options_to_json(options: RecordingOptions) -> dict[str, Any]:
    return {"language": options.language} if options.language is not None else {}


def options_from_json(data: Mapping[str, Any] | None) -> RecordingOptions:
    language = (data or {}).get("language")
    return RecordingOptions(language=str(language) if language is not None else None)


def user_from_row(row: Row) -> User:
    return User(
        id=_uuid(row["id"]),
        sub=row["sub"],
        email=row["email"],
        full_name=row["full_name"],
        short_name=row["short_name"],
        language=row["language"],
        timezone=row["timezone"],
        created_at=row["created_at"],
    )


def room_defaults_from_row(row: Row) -> RoomDefaults:
    """The room defaults kept on a user's row."""
    level, configuration = row["default_room_access_level"], row["default_room_configuration"]
    return RoomDefaults(
        access_level=AccessLevel(level) if level else None,
        configuration=None if configuration is None else configuration_from_json(configuration),
    )


def room_from_row(row: Row) -> Room:
    return Room(
        id=_uuid(row["id"]),
        name=row["name"],
        slug=row["slug"],
        access_level=AccessLevel(row["access_level"]),
        configuration=configuration_from_json(row["configuration"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def access_from_row(row: Row) -> RoomAccess:
    return RoomAccess(
        id=_uuid(row["id"]),
        room_id=_uuid(row["room_id"]),
        user_id=_uuid(row["user_id"]),
        role=Role(row["role"]),
        created_at=row["created_at"],
    )


def recording_from_row(row: Row) -> Recording:
    return Recording(
        id=_uuid(row["id"]),
        room_id=_uuid(row["room_id"]),
        mode=RecordingMode(row["mode"]),
        created_by=_optional_uuid(row["created_by"]),
        status=RecordingStatus(row["status"]),
        egress_id=row["egress_id"],
        options=options_from_json(row["options"]),
        created_at=row["created_at"],
        saved_at=row["saved_at"],
        expires_at=row["expires_at"],
    )
