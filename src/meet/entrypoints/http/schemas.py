"""HTTP schemas shared by several controllers (msgspec Structs), and their mapping from the domain."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal, Self

import msgspec
from litestar import Request

from meet.domain.conference.model import ConnectionConfig
from meet.domain.rooms.lookup import RoomVisit
from meet.domain.rooms.model import RoomAccess, RoomConfiguration, TrackSource

SourceName = Literal["camera", "microphone", "screen_share", "screen_share_audio"]
AccessLevelName = Literal["public", "trusted", "restricted"]
RoleName = Literal["owner", "administrator", "member"]
# A boolean in a request body: JSON true or false only. Litestar converts bodies leniently (a plain ``bool``
# would also take 0, 1, "true" or "false"), which the OpenAPI document's "boolean" does not allow.
StrictBool = Literal[True, False]
# Pages start at most this far in (the largest 32-bit integer: within every database's range).
MAX_OFFSET = 2**31 - 1
# A room's slug is made of its name's ASCII letters and digits, so a name needs at least one.
RoomName = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern="[A-Za-z0-9]")]
DisplayName = Annotated[str, msgspec.Meta(max_length=255)]
# A name that must not be empty once control, bidirectional and white-space characters are stripped.
VISIBLE = "[^\\s\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]"
RequiredDisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=VISIBLE)]


class LaSuiteConfigurationBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=False):
    """A room's configuration as La Suite Meet shapes it (its API, its frontend, its external API)."""

    can_publish_sources: list[SourceName] | None = None
    everyone_can_mute: StrictBool | None = None

    def to_domain(self) -> RoomConfiguration:
        sources = self.can_publish_sources
        return RoomConfiguration(
            can_publish_sources=None if sources is None else tuple(dict.fromkeys(TrackSource(s) for s in sources)),
            everyone_can_mute=self.everyone_can_mute,
        )

    @classmethod
    def of(cls, configuration: RoomConfiguration) -> Self:
        sources = configuration.can_publish_sources
        return cls(
            can_publish_sources=None if sources is None else [source.value for source in sources],
            everyone_can_mute=configuration.everyone_can_mute,
        )


class ConfigurationBody(LaSuiteConfigurationBody, forbid_unknown_fields=True, omit_defaults=False):
    """meet's own: La Suite's and ``max_participants`` (the room's capacity, at most the service's default)."""

    max_participants: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None

    def to_domain(self) -> RoomConfiguration:
        return replace(super().to_domain(), max_participants=self.max_participants)

    @classmethod
    def of(cls, configuration: RoomConfiguration) -> Self:
        body = super().of(configuration)
        body.max_participants = configuration.max_participants
        return body


class LiveKitConnection(msgspec.Struct):
    """The LiveKit-only shape existing clients read; only present when the SFU is LiveKit."""

    url: str
    room: str
    token: str

    @classmethod
    def of(cls, connection: ConnectionConfig | None) -> LiveKitConnection | None:
        if connection is None or connection.provider != "livekit":
            return None
        return cls(url=connection.url, room=connection.room, token=connection.token)


class SfuConnection(msgspec.Struct, omit_defaults=True):
    """How to join the live room, whatever the SFU: ``join_token`` where it wants one in the join itself
    (Janus VideoRoom: ``token`` for the session and handle, also as the handle's ``opaque_id``;
    ``join_token`` in ``join``, with ``id`` = ``identity``)."""

    provider: str
    url: str
    room: str
    token: str
    identity: str
    join_token: str | None = None

    @classmethod
    def of(cls, connection: ConnectionConfig | None) -> SfuConnection | None:
        if connection is None:
            return None
        return cls(
            provider=connection.provider,
            url=connection.url,
            room=connection.room,
            token=connection.token,
            identity=connection.identity,
            join_token=connection.join_token,
        )


class RoomOut(msgspec.Struct, omit_defaults=True):
    """A room; members see its configuration, outsiders only what they need to knock."""

    id: uuid.UUID | None
    name: str
    slug: str
    access_level: AccessLevelName
    is_administrable: bool
    configuration: ConfigurationBody | None = None
    role: RoleName | None = None
    livekit: LiveKitConnection | None = None
    connection: SfuConnection | None = None
    locked: bool = False  # the room's door is locked (absent when not)
    # Why a caller the room lets in directly got no connection: "locked", or "sent_to_lobby" (knock instead)
    held: str | None = None

    @classmethod
    def of(
        cls,
        view: RoomVisit,
        connection: ConnectionConfig | None = None,
        *,
        locked: bool = False,
        held: str | None = None,
    ) -> RoomOut:
        room = view.room
        insider = view.role is not None or connection is not None
        return cls(
            id=None if room.is_temporary else room.id,
            name=room.name,
            slug=room.slug,
            access_level=room.access_level.value,
            is_administrable=view.is_administrable,
            configuration=ConfigurationBody.of(room.configuration) if insider else None,
            role=view.role.value if view.role else None,
            livekit=LiveKitConnection.of(connection),
            connection=SfuConnection.of(connection),
            locked=locked,
            held=held,
        )


class AccessOut(msgspec.Struct):
    id: uuid.UUID
    room_id: uuid.UUID
    user_id: uuid.UUID
    role: RoleName
    created_at: datetime | None

    @classmethod
    def of(cls, access: RoomAccess) -> AccessOut:
        return cls(
            id=access.id,
            room_id=access.room_id,
            user_id=access.user_id,
            role=access.role.value,
            created_at=access.created_at,
        )


def bearer_of(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value, if it is one."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    return bearer_of(request.headers.get("authorization"))
