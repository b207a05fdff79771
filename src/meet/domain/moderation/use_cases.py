"""Moderation of a live meeting: admins see, mute, remove, promote and demote the people in the SFU room.

Powers come from the caller's session (their role in the room). A participant's own SFU token
(Bearer) only ever lets them act on themselves, or mute others where the room allows everyone
to, and only while the SFU confirms they are present.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, Sfu
from meet.domain.lobby.ports import LobbyStore
from meet.domain.moderation.errors import (
    ForbiddenPermission,
    NotAllowedToMute,
    NotPresent,
    NotSignedIn,
    NotYourself,
    RenamingDisabled,
    RoleChangeRefused,
)
from meet.domain.moderation.ports import ParticipantCredentials, ParticipantTokenVerifier, RemovalRegistry
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import DEFAULT_SOURCES, Role, Room, RoomAccess, TrackSource
from meet.domain.rooms.ports import RoomAccessRepository
from meet.domain.rooms.use_cases import require_admin
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import AuthenticationRequired, InvalidInput, ServiceUnavailable, UpstreamFailure
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import Viewer
from meet.domain.users.ports import UserRepository

logger = logging.getLogger("meet.moderation")

SERVER_OWNED_ATTRIBUTES = frozenset({"color", "room_role", "is_authenticated"})
HAND_RAISED_ATTRIBUTE = "handRaisedAt"
FORBIDDEN_PERMISSIONS = ("hidden", "recorder", "agent")


@dataclass(frozen=True, slots=True)
class ModerationPolicy:
    removal_seconds: int = 600
    allow_display_name_changes: bool = True


class _Moderation:
    def __init__(self, locator: RoomLocator, sfu: Sfu) -> None:
        self._locator = locator
        self._sfu = sfu

    async def _administered(self, viewer: Viewer, id_or_slug: str) -> Room:
        room = await self._locator.locate_registered(id_or_slug)
        await require_admin(self._locator, room, viewer)
        return room


class ListLiveParticipants(_Moderation):
    async def execute(self, viewer: Viewer, id_or_slug: str) -> Sequence[LiveParticipant]:
        room = await self._administered(viewer, id_or_slug)
        try:
            return await self._sfu.list_participants(room.sfu_room_name)
        except ParticipantNotInRoom:
            return ()  # the live room does not exist: nobody is in it


async def _present(
    sfu: Sfu, verifier: ParticipantTokenVerifier, room: Room, bearer: str | None
) -> ParticipantCredentials:
    """The token's participant, checked to be for this room and really connected to it."""
    if not bearer:
        raise AuthenticationRequired
    credentials = verifier.verify(bearer)
    if credentials.room != room.sfu_room_name:
        raise NotPresent("The token is not for this room.")
    if await sfu.get_participant(room.sfu_room_name, credentials.identity) is None:
        raise NotPresent
    return credentials


class MuteTrack(_Moderation):
    def __init__(self, locator: RoomLocator, sfu: Sfu, verifier: ParticipantTokenVerifier) -> None:
        super().__init__(locator, sfu)
        self._verifier = verifier

    async def execute(
        self, viewer: Viewer, id_or_slug: str, identity: str, track_sid: str, *, bearer: str | None
    ) -> None:
        room = await self._locator.locate(id_or_slug)
        role = await self._locator.role_of(room, viewer)
        if role is None or not role.is_admin:
            if not bearer:
                if not viewer.is_authenticated:
                    raise AuthenticationRequired
                raise NotAllowedToMute
            await _present(self._sfu, self._verifier, room, bearer)
            if not room.configuration.everyone_can_mute:
                raise NotAllowedToMute
        await self._sfu.mute_published_track(room.sfu_room_name, identity, track_sid, muted=True)


class RemoveParticipant(_Moderation):
    """Remove from the live room and keep out for a while: no token, no lobby entry, removed again on rejoin."""

    def __init__(
        self,
        locator: RoomLocator,
        sfu: Sfu,
        removals: RemovalRegistry,
        lobby: LobbyStore,
        policy: ModerationPolicy,
    ) -> None:
        super().__init__(locator, sfu)
        self._removals = removals
        self._lobby = lobby
        self._policy = policy

    async def execute(self, viewer: Viewer, id_or_slug: str, identity: str) -> None:
        room = await self._administered(viewer, id_or_slug)
        if identity == viewer.sub:
            raise NotYourself("You cannot remove yourself; leave the room instead.")
        name = room.sfu_room_name
        # Bar first: a token requested between the removal and the bar would let them straight back in.
        await self._removals.bar(name, identity, self._policy.removal_seconds)
        await self._lobby.revoke(name, identity)
        await self._sfu.remove_participant(name, identity)


@dataclass(frozen=True, slots=True)
class ParticipantChanges:
    role: Role | None = None
    name: str | None = None
    attributes: Mapping[str, str] | None = None
    publish_sources: tuple[TrackSource, ...] | None = None
    forbidden_permissions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantChangeResult:
    identity: str
    role: Role | None
    live_updated: bool
    participant: LiveParticipant | None


class ChangeParticipant(_Moderation):
    """Admins change a participant's role (persisted AND applied live), name and free attributes."""

    def __init__(
        self,
        locator: RoomLocator,
        sfu: Sfu,
        users: UserRepository,
        accesses: RoomAccessRepository,
        uow: UnitOfWork,
    ) -> None:
        super().__init__(locator, sfu)
        self._users = users
        self._accesses = accesses
        self._uow = uow

    async def execute(
        self, viewer: Viewer, id_or_slug: str, identity: str, changes: ParticipantChanges
    ) -> ParticipantChangeResult:
        room = await self._administered(viewer, id_or_slug)
        if changes.forbidden_permissions:
            field = changes.forbidden_permissions[0]
            raise ForbiddenPermission(f"`{field}` may never be granted to a participant.", field=f"permission.{field}")
        attributes = dict(changes.attributes or {})
        if owned := SERVER_OWNED_ATTRIBUTES & attributes.keys():
            raise InvalidInput(f"The attribute `{sorted(owned)[0]}` is set by the server.", field="attributes")
        update = ParticipantUpdate(
            name=changes.name, attributes=attributes or None, publish_sources=changes.publish_sources
        )
        if changes.role is not None:
            await self._change_role(viewer, room, identity, changes.role)
            attributes["room_role"] = changes.role.value
            sources = changes.publish_sources
            if sources is None:
                sources = DEFAULT_SOURCES if changes.role.is_admin else room.configuration.publishable_sources()
            update = ParticipantUpdate(name=changes.name, attributes=attributes, publish_sources=sources)
        try:
            live = await self._sfu.update_participant(room.sfu_room_name, identity, update)
        except ParticipantNotInRoom:
            if changes.role is None:
                raise
            live = None  # the role is saved; they get it at their next join
        except (ServiceUnavailable, UpstreamFailure) as error:
            if changes.role is None:
                raise
            logger.warning("role of %s saved but not applied live in %s: %s", identity, room.sfu_room_name, error)
            live = None
        return ParticipantChangeResult(
            identity=identity, role=changes.role, live_updated=live is not None, participant=live
        )

    async def _change_role(self, viewer: Viewer, room: Room, identity: str, role: Role) -> None:
        if role is Role.OWNER:
            raise RoleChangeRefused("Ownership is granted through the room's accesses, not live.")
        if identity == viewer.sub:
            raise RoleChangeRefused("You cannot change your own role.")
        user = await self._users.get_by_sub(identity)
        if user is None:
            raise NotSignedIn
        access = await self._accesses.get_for_user(room.id, user.id)
        if access is not None and access.role is Role.OWNER:
            raise RoleChangeRefused("An owner cannot be demoted here.")
        if access is None:
            await self._accesses.add(RoomAccess.grant(room.id, user.id, role))
        elif access.role is not role:
            access.role = role
            await self._accesses.update(access)
        await self._uow.commit()


class SelfService:
    """A participant acts on themselves with their own SFU token: raise or lower their hand, rename."""

    def __init__(
        self,
        locator: RoomLocator,
        sfu: Sfu,
        verifier: ParticipantTokenVerifier,
        clock: Clock,
        policy: ModerationPolicy,
    ) -> None:
        self._locator = locator
        self._sfu = sfu
        self._verifier = verifier
        self._clock = clock
        self._policy = policy

    async def _self(self, id_or_slug: str, identity: str, bearer: str | None) -> Room:
        room = await self._locator.locate(id_or_slug)
        credentials = await _present(self._sfu, self._verifier, room, bearer)
        if credentials.identity != identity:
            raise NotYourself
        return room

    async def raise_hand(self, id_or_slug: str, identity: str, *, raised: bool, bearer: str | None) -> LiveParticipant:
        room = await self._self(id_or_slug, identity, bearer)
        value = self._clock.now().isoformat() if raised else ""
        update = ParticipantUpdate(attributes={HAND_RAISED_ATTRIBUTE: value})
        return await self._sfu.update_participant(room.sfu_room_name, identity, update)

    async def rename(self, id_or_slug: str, identity: str, *, name: str, bearer: str | None) -> LiveParticipant:
        if not self._policy.allow_display_name_changes:
            raise RenamingDisabled
        name = name.strip()
        if not name:
            raise InvalidInput("The name must not be empty.", field="name")
        room = await self._self(id_or_slug, identity, bearer)
        return await self._sfu.update_participant(room.sfu_room_name, identity, ParticipantUpdate(name=name))
