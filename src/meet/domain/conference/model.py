from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from meet.domain.rooms.model import DEFAULT_SOURCES, Role, Room, SfuRoomName, TrackSource
from meet.domain.shared.text import clean_display_name, color_for

ANONYMOUS_NAME = "Anonymous"


class EntryVerdict(enum.Enum):
    """What the join's check answers: let the join go on, read the room again, or keep the caller out."""

    CLEAR = "clear"
    STALE = "stale"  # the room (or a role in it) changed since it was read
    BARRED = "barred"


# Participant attributes the server sets in every token; a participant never edits them.
COLOR_ATTRIBUTE = "color"
ROLE_ATTRIBUTE = "room_role"
AUTHENTICATED_ATTRIBUTE = "is_authenticated"
SERVER_OWNED_ATTRIBUTES = frozenset({COLOR_ATTRIBUTE, ROLE_ATTRIBUTE, AUTHENTICATED_ATTRIBUTE})
# Set by the participant through meet (their own token), cleared with "".
HAND_RAISED_ATTRIBUTE = "handRaisedAt"


def display_name(requested_name: str | None, full_name: str | None) -> str:
    """The requested display name, else the user's full name, else "Anonymous"; control and
    bidirectional-override characters are stripped first (see ``clean_display_name``)."""
    return clean_display_name(requested_name) or clean_display_name(full_name) or ANONYMOUS_NAME


def role_in(attributes: Mapping[str, str]) -> Role | None:
    """The room role a live participant's server-owned attributes carry."""
    try:
        return Role(attributes.get(ROLE_ATTRIBUTE, ""))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class ParticipantGrants:
    """Provider-neutral permissions of one participant in one SFU room.

    Deliberately has no field for server-wide powers (creating, listing or recording
    rooms) nor for hidden/recorder/agent participants: a browser never gets them, and
    a participant never edits its own name or attributes.
    """

    room: SfuRoomName
    room_admin: bool
    publish_sources: tuple[TrackSource, ...]
    can_subscribe: bool = True
    can_publish_data: bool = True

    @property
    def can_publish(self) -> bool:
        return bool(self.publish_sources)

    @classmethod
    def for_role(cls, room: Room, role: Role | None) -> ParticipantGrants:
        """Grant policy: admins get room admin and every default source; others the room's sources."""
        if role is not None and role.is_admin:
            return cls(room=room.sfu_room_name, room_admin=True, publish_sources=DEFAULT_SOURCES)
        return cls(
            room=room.sfu_room_name,
            room_admin=False,
            publish_sources=room.configuration.publishable_sources(),
        )


@dataclass(frozen=True, slots=True)
class Participant:
    """Who appears in the SFU room: identity, display name, and server-owned attributes."""

    identity: str
    name: str
    color: str
    role: Role | None
    is_authenticated: bool

    @classmethod
    def build(
        cls,
        *,
        identity: str,
        requested_name: str | None,
        full_name: str | None,
        role: Role | None,
        is_authenticated: bool,
        color: str | None = None,
    ) -> Participant:
        return cls(
            identity=identity,
            name=display_name(requested_name, full_name),
            color=color or color_for(identity),
            role=role,
            is_authenticated=is_authenticated,
        )

    @property
    def attributes(self) -> dict[str, str]:
        return {
            COLOR_ATTRIBUTE: self.color,
            ROLE_ATTRIBUTE: self.role.value if self.role else "",
            AUTHENTICATED_ATTRIBUTE: "true" if self.is_authenticated else "false",
        }


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Everything a client needs to connect to the SFU room.

    ``provider`` names the SFU (``"livekit"``, ``"janus"``); ``join_token`` is set where the SFU wants a
    second token in the join itself (Janus VideoRoom rooms with signed tokens).
    """

    url: str
    room: SfuRoomName
    token: str
    identity: str = ""
    provider: str = "livekit"
    join_token: str | None = None
