"""Translation between rows and domain objects, kept in one place."""

from __future__ import annotations

from typing import Any

from meet.adapters.sqlalchemy.models import RoomAccessModel, RoomModel, UserModel
from meet.domain.rooms.model import AccessLevel, Role, Room, RoomAccess, RoomConfiguration, TrackSource
from meet.domain.users.model import User


def user_from_row(row: UserModel) -> User:
    return User(
        id=row.id,
        sub=row.sub,
        email=row.email,
        full_name=row.full_name,
        short_name=row.short_name,
        language=row.language,
        created_at=row.created_at,
    )


def configuration_to_json(configuration: RoomConfiguration) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if configuration.can_publish_sources is not None:
        data["can_publish_sources"] = [source.value for source in configuration.can_publish_sources]
    if configuration.everyone_can_mute is not None:
        data["everyone_can_mute"] = configuration.everyone_can_mute
    return data


def configuration_from_json(data: dict[str, Any] | None) -> RoomConfiguration:
    data = data or {}
    sources = data.get("can_publish_sources")
    return RoomConfiguration(
        can_publish_sources=None if sources is None else tuple(TrackSource(s) for s in sources),
        everyone_can_mute=data.get("everyone_can_mute"),
    )


def room_from_row(row: RoomModel) -> Room:
    return Room(
        id=row.id,
        name=row.name,
        slug=row.slug,
        access_level=AccessLevel(row.access_level),
        configuration=configuration_from_json(row.configuration),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def access_from_row(row: RoomAccessModel) -> RoomAccess:
    return RoomAccess(
        id=row.id, room_id=row.room_id, user_id=row.user_id, role=Role(row.role), created_at=row.created_at
    )
