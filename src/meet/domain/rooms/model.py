from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from meet.domain.rooms.errors import OwnerOnly, RoleChangeRefused
from meet.domain.shared.errors import InvalidInput
from meet.domain.shared.text import is_uuid, slugify


class AccessLevel(enum.StrEnum):
    PUBLIC = "public"
    TRUSTED = "trusted"
    RESTRICTED = "restricted"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"

    @property
    def is_admin(self) -> bool:
        return self in ADMIN_ROLES


ADMIN_ROLES = frozenset({Role.OWNER, Role.ADMINISTRATOR})
"""The roles that administer a room: its settings, accesses, lobby, live participants and recordings."""


class TrackSource(enum.StrEnum):
    CAMERA = "camera"
    MICROPHONE = "microphone"
    SCREEN_SHARE = "screen_share"
    SCREEN_SHARE_AUDIO = "screen_share_audio"


DEFAULT_SOURCES: tuple[TrackSource, ...] = tuple(TrackSource)


@dataclass(frozen=True, slots=True)
class RoomConfiguration:
    """Per-room settings; ``None`` means "use the service default"."""

    can_publish_sources: tuple[TrackSource, ...] | None = None
    everyone_can_mute: bool | None = None
    max_participants: int | None = None  # at most the service's default (a larger value is capped)

    def publishable_sources(self) -> tuple[TrackSource, ...]:
        """What a participant without an admin role may publish (empty: nothing)."""
        if self.can_publish_sources is None:
            return DEFAULT_SOURCES
        return self.can_publish_sources


@dataclass(frozen=True, slots=True)
class RoomDefaults:
    """What the rooms a user creates get when the creation names no access level or configuration."""

    access_level: AccessLevel | None = None
    configuration: RoomConfiguration | None = None

    def access_level_for(self, requested: AccessLevel | None) -> AccessLevel:
        return requested or self.access_level or AccessLevel.PUBLIC

    def configuration_for(self, requested: RoomConfiguration | None) -> RoomConfiguration | None:
        return requested if requested is not None else self.configuration


def room_slug(name: str) -> str:
    """The slug a room name gets; refuse names that give no slug or a UUID-shaped one.

    UUID-shaped slugs are refused so a path value can be read unambiguously as id or slug.
    """
    slug = slugify(name)
    if not slug:
        raise InvalidInput("The name must contain at least one letter or digit.", field="name")
    if is_uuid(slug):
        raise InvalidInput("The name must not look like a UUID.", field="name")
    return slug


RoomRef = NewType("RoomRef", str)
"""The room a caller names, as given (a path value): a room id or a slug, in any spelling. ``RoomLocator``
turns it into a ``Room``."""

SfuRoomName = NewType("SfuRoomName", str)
"""A room's name in the SFU (``Room.sfu_room_name``): what the lobby, the bars, the SFU and its events key on."""


@dataclass(slots=True)
class Room:
    id: uuid.UUID
    name: str
    slug: str
    access_level: AccessLevel = AccessLevel.PUBLIC
    configuration: RoomConfiguration = field(default_factory=RoomConfiguration)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    is_temporary: bool = False

    @classmethod
    def create(
        cls,
        name: str,
        access_level: AccessLevel = AccessLevel.PUBLIC,
        configuration: RoomConfiguration | None = None,
    ) -> Room:
        name = name.strip()
        if not name:
            raise InvalidInput("The name must not be empty.", field="name")
        return cls(
            id=uuid.uuid4(),
            name=name,
            slug=room_slug(name),
            access_level=access_level,
            configuration=configuration or RoomConfiguration(),
        )

    @classmethod
    def temporary(cls, slug: str) -> Room:
        """An unregistered room: public, administered by nobody, alive only in the SFU."""
        return cls(id=uuid.UUID(int=0), name=slug, slug=slug, is_temporary=True)

    def rename(self, name: str) -> None:
        name = name.strip()
        if not name:
            raise InvalidInput("The name must not be empty.", field="name")
        self.slug = room_slug(name)
        self.name = name

    @property
    def sfu_room_name(self) -> SfuRoomName:
        """The SFU room's name: the slug for temporary rooms (so everyone with it meets), else the id."""
        return SfuRoomName(self.slug if self.is_temporary else str(self.id))

    def lets_in_directly(self, *, authenticated: bool, role: Role | None) -> bool:
        """Join policy; evaluated on every request so a changed access level applies at once."""
        if self.access_level is AccessLevel.PUBLIC:
            return True
        if self.access_level is AccessLevel.TRUSTED:
            return authenticated
        return role is not None


@dataclass(slots=True)
class RoomAccess:
    id: uuid.UUID
    room_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    created_at: datetime | None = None

    @classmethod
    def grant(cls, room_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> RoomAccess:
        return cls(id=uuid.uuid4(), room_id=room_id, user_id=user_id, role=role)

    # Who may change whose role: the rules of the accesses (``by`` is the role of whoever asks) and of the
    # live meeting, in one place; the access use cases and moderation call them.

    @staticmethod
    def check_grantable(role: Role, *, by: Role | None) -> None:
        """Only an owner grants the owner role."""
        if role is Role.OWNER and by is not Role.OWNER:
            raise OwnerOnly("Only an owner may grant the owner role.")

    def change_role(self, role: Role, *, by: Role | None) -> None:
        """Only an owner grants the owner role or changes an owner's access (the last owner is the
        repository's to protect: it counts the owners)."""
        if Role.OWNER in (role, self.role) and by is not Role.OWNER:
            raise OwnerOnly("Only an owner may grant the owner role or change an owner's access.")
        self.role = role

    def check_revocable(self, *, by: Role | None) -> None:
        """Only an owner removes an owner."""
        if self.role is Role.OWNER and by is not Role.OWNER:
            raise OwnerOnly("Only an owner may remove an owner.")

    @staticmethod
    def check_live_role_change(current: RoomAccess | None, role: Role, *, self_change: bool) -> None:
        """A role changed live, in the meeting (moderation), never touches ownership: nobody is made owner
        there and no owner is demoted there (both go through the accesses); nobody changes their own role."""
        if role is Role.OWNER:
            raise RoleChangeRefused("Ownership is granted through the room's accesses, not live.")
        if self_change:
            raise RoleChangeRefused("You cannot change your own role.")
        if current is not None and current.role is Role.OWNER:
            raise RoleChangeRefused("An owner cannot be demoted here.")
