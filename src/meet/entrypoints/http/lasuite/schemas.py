"""La Suite Meet's shapes of meet's objects."""

from __future__ import annotations

import uuid

import msgspec

from meet.domain.conference.model import ConnectionConfig
from meet.domain.rooms.lookup import RoomVisit
from meet.domain.rooms.model import RoomAccess
from meet.entrypoints.http.schemas import AccessLevelName, LaSuiteConfigurationBody, LiveKitConnection, RoleName


class AccessOut(msgspec.Struct):
    id: uuid.UUID
    user: uuid.UUID
    role: RoleName

    @classmethod
    def of(cls, access: RoomAccess) -> AccessOut:
        return cls(id=access.id, user=access.user_id, role=access.role.value)


class LaSuiteRoom(msgspec.Struct, omit_defaults=True):
    """A room as the app reads it (``ApiRoom``). ``accesses`` is present only for the room's admins: the app
    reads its presence as "I administer this room"; ``livekit`` only when the caller may enter directly."""

    id: uuid.UUID | None
    name: str
    slug: str
    access_level: AccessLevelName
    is_administrable: bool
    configuration: LaSuiteConfigurationBody | None = None
    livekit: LiveKitConnection | None = None
    accesses: list[AccessOut] | None = None

    @classmethod
    def of(
        cls,
        visit: RoomVisit,
        connection: ConnectionConfig | None = None,
        accesses: list[RoomAccess] | None = None,
    ) -> LaSuiteRoom:
        room = visit.room
        insider = visit.role is not None or connection is not None
        return cls(
            id=None if room.is_temporary else room.id,
            name=room.name,
            slug=room.slug,
            access_level=room.access_level.value,
            is_administrable=visit.is_administrable,
            configuration=LaSuiteConfigurationBody.of(room.configuration) if insider else None,
            livekit=LiveKitConnection.of(connection),
            accesses=[AccessOut.of(access) for access in accesses]
            if visit.is_administrable and accesses is not None
            else None,
        )


class Status(msgspec.Struct):
    status: str = "success"


class Message(msgspec.Struct):
    message: str
