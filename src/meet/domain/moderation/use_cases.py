"""Moderation of a live meeting: admins see, mute, remove, promote and demote the people in the SFU room.

Powers come from the caller's session (their role in the room). A participant's own SFU token
(Bearer) only ever lets them act on themselves, or mute others where the room allows everyone
to, and only while the SFU confirms they are present.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from meet.domain.conference.bars import BarReason, RoomBars
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.model import (
    HAND_RAISED_ATTRIBUTE,
    ROLE_ATTRIBUTE,
    SERVER_OWNED_ATTRIBUTES,
    ParticipantGrants,
)
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, Sfu
from meet.domain.lobby.ports import LobbyStore
from meet.domain.moderation.errors import (
    ForbiddenPermission,
    NotAllowedToMute,
    NotSignedIn,
    NotYourself,
    RenamingDisabled,
)
from meet.domain.moderation.presence import PresentParticipants
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Role, Room, RoomAccess, RoomRef, TrackSource
from meet.domain.rooms.ports import RoomStamps, RoomUnitOfWork
from meet.domain.rooms.use_cases import renewing
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import AuthenticationRequired, InvalidInput, ServiceUnavailable, UpstreamFailure
from meet.domain.shared.events import Action, Actor, AuditLog, RoomEvent, participant
from meet.domain.shared.text import clean_display_name
from meet.domain.users.model import Viewer

logger = logging.getLogger("meet.moderation")

FORBIDDEN_PERMISSIONS = ("hidden", "recorder", "agent")


@dataclass(frozen=True, slots=True)
class ModerationPolicy:
    removal_seconds: int = 600
    allow_display_name_changes: bool = True


@dataclass(frozen=True, slots=True)
class ListLiveParticipantsRequest:
    viewer: Viewer
    room: RoomRef


class ListLiveParticipants:
    def __init__(self, locator: RoomLocator, sfu: Sfu) -> None:
        self._locator = locator
        self._sfu = sfu

    async def execute(self, request: ListLiveParticipantsRequest) -> Sequence[LiveParticipant]:
        room = (await self._locator.administered(request.viewer, request.room)).room
        try:
            return await self._sfu.list_participants(room.sfu_room_name)
        except ParticipantNotInRoom:
            return ()  # the live room does not exist: nobody is in it


@dataclass(frozen=True, slots=True)
class MuteTrackRequest:
    """``bearer``: the caller's own SFU token, for participants who are not the room's admins."""

    viewer: Viewer
    room: RoomRef
    identity: str
    track_sid: str
    bearer: str | None = None


class MuteTrack:
    def __init__(
        self, locator: RoomLocator, sfu: Sfu, present: PresentParticipants, audit: AuditLog, clock: Clock
    ) -> None:
        self._locator = locator
        self._sfu = sfu
        self._present = present
        self._audit = audit
        self._clock = clock

    async def execute(self, request: MuteTrackRequest) -> None:
        visit = await self._locator.visit(request.viewer, request.room)
        room = visit.room
        actor = request.viewer.actor
        if not visit.is_administrable:
            if not request.bearer:
                if not request.viewer.is_authenticated:
                    raise AuthenticationRequired
                raise NotAllowedToMute
            actor = Actor.user((await self._present.bearer_of(room, request.bearer)).identity)
            if not room.configuration.everyone_can_mute:
                raise NotAllowedToMute
        await self._sfu.mute_published_track(room.sfu_room_name, request.identity, request.track_sid, muted=True)
        if not room.is_temporary:
            await self._audit.append(
                RoomEvent(
                    room.id,
                    Action.PARTICIPANT_MUTED,
                    self._clock.now(),
                    actor,
                    subject=participant(request.identity),
                    details={"track_sid": request.track_sid},
                )
            )


@dataclass(frozen=True, slots=True)
class RemoveParticipantRequest:
    viewer: Viewer
    room: RoomRef
    identity: str


class RemoveParticipant:
    """Remove from the live room and keep out for a while: no token, no lobby entry, removed again on rejoin."""

    def __init__(
        self,
        locator: RoomLocator,
        sfu: Sfu,
        bars: RoomBars,
        lobby: LobbyStore,
        clock: Clock,
        policy: ModerationPolicy,
        audit: AuditLog,
    ) -> None:
        self._locator = locator
        self._sfu = sfu
        self._bars = bars
        self._lobby = lobby
        self._clock = clock
        self._policy = policy
        self._audit = audit

    async def execute(self, request: RemoveParticipantRequest) -> None:
        room = (await self._locator.administered(request.viewer, request.room)).room
        if request.identity == request.viewer.sub:
            raise NotYourself("You cannot remove yourself; leave the room instead.")
        name = room.sfu_room_name
        # Bar first: a token requested between the removal and the bar would let them straight back in.
        until = self._clock.now() + timedelta(seconds=self._policy.removal_seconds)
        await self._bars.bar(name, request.identity, until, BarReason.REMOVED)
        await self._lobby.revoke(name, request.identity)
        await self._sfu.remove_participant(name, request.identity)
        details = {"barred_seconds": self._policy.removal_seconds}
        await self._audit.append(
            RoomEvent(
                room.id,
                Action.PARTICIPANT_REMOVED,
                self._clock.now(),
                request.viewer.actor,
                subject=participant(request.identity),
                details=details,
            )
        )


@dataclass(frozen=True, slots=True)
class ChangeParticipantRequest:
    """What to change; ``None`` leaves that part as it is. ``forbidden_permissions`` names the
    permissions the caller asked for that no participant may ever get (refused)."""

    viewer: Viewer
    room: RoomRef
    identity: str
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


class ChangeParticipant:
    """Admins change a participant's role (persisted AND applied live), name and free attributes."""

    def __init__(
        self, locator: RoomLocator, sfu: Sfu, uow: RoomUnitOfWork, stamps: RoomStamps, audit: AuditLog, clock: Clock
    ) -> None:
        self._locator = locator
        self._sfu = sfu
        self._uow = uow
        self._stamps = stamps
        self._audit = audit
        self._clock = clock

    async def execute(self, request: ChangeParticipantRequest) -> ParticipantChangeResult:
        room = (await self._locator.administered(request.viewer, request.room)).room
        if request.forbidden_permissions:
            field = request.forbidden_permissions[0]
            raise ForbiddenPermission(f"`{field}` may never be granted to a participant.", field=f"permission.{field}")
        attributes = dict(request.attributes or {})
        if owned := SERVER_OWNED_ATTRIBUTES & attributes.keys():
            raise InvalidInput(f"The attribute `{sorted(owned)[0]}` is set by the server.", field="attributes")
        sources = request.publish_sources
        if request.role is not None:
            await self._change_role(request.viewer, room, request.identity, request.role)
            attributes[ROLE_ATTRIBUTE] = request.role.value
            if sources is None:
                sources = ParticipantGrants.for_role(room, request.role).publish_sources
        name = clean_display_name(request.name)
        if request.name is not None and not name:
            raise InvalidInput("The name must not be empty.", field="name")
        update = ParticipantUpdate(name=name, attributes=attributes or None, publish_sources=sources)
        try:
            live = await self._sfu.update_participant(room.sfu_room_name, request.identity, update)
        except ParticipantNotInRoom:
            if request.role is None:
                raise
            live = None  # the role is saved; they get it at their next join
        except (ServiceUnavailable, UpstreamFailure) as error:
            if request.role is None:
                raise
            logger.warning(
                "role of %s saved but not applied live in %s: %s", request.identity, room.sfu_room_name, error
            )
            live = None
        if name and live is not None:
            await self._audit.append(
                RoomEvent(
                    room.id,
                    Action.PARTICIPANT_RENAMED,
                    self._clock.now(),
                    request.viewer.actor,
                    subject=participant(request.identity, name),
                    details={"name": name},
                )
            )
        return ParticipantChangeResult(
            identity=request.identity, role=request.role, live_updated=live is not None, participant=live
        )

    async def _change_role(self, viewer: Viewer, room: Room, identity: str, role: Role) -> None:
        RoomAccess.check_live_role_change(None, role, self_change=identity == viewer.sub)
        # Processes keep copies of roles under the room's stamp: renewed around the change.
        async with renewing(self._stamps, room), self._uow.begin() as tx:
            user = await tx.users.get_by_sub(identity)
            if user is None:
                raise NotSignedIn
            access = await tx.accesses.get_for_user(room.id, user.id)
            RoomAccess.check_live_role_change(access, role, self_change=False)
            previous = access.role if access is not None else None
            if access is None:
                await tx.accesses.add(RoomAccess.grant(room.id, user.id, role))
            elif access.role is not role:
                access.role = role
                await tx.accesses.update(access)
            if previous is not role:
                details = {"role": role.value, "previous_role": previous.value if previous else None}
                await tx.audit.append(
                    RoomEvent(
                        room.id,
                        Action.PARTICIPANT_ROLE_CHANGED,
                        self._clock.now(),
                        viewer.actor,
                        subject=participant(identity, user.full_name),
                        details=details,
                    )
                )


@dataclass(frozen=True, slots=True)
class RaiseHandRequest:
    """``identity`` None: whoever the bearer token names."""

    room: RoomRef
    identity: str | None
    raised: bool
    bearer: str | None


class RaiseHand:
    """A participant raises or lowers their own hand, with their own SFU token."""

    def __init__(self, locator: RoomLocator, sfu: Sfu, present: PresentParticipants, clock: Clock) -> None:
        self._locator = locator
        self._sfu = sfu
        self._present = present
        self._clock = clock

    async def execute(self, request: RaiseHandRequest) -> LiveParticipant:
        room, identity = await _yourself(self._locator, self._present, request.room, request.identity, request.bearer)
        value = self._clock.now().isoformat() if request.raised else ""
        update = ParticipantUpdate(attributes={HAND_RAISED_ATTRIBUTE: value})
        return await self._sfu.update_participant(room.sfu_room_name, identity, update)


@dataclass(frozen=True, slots=True)
class RenameSelfRequest:
    """``identity`` None: whoever the bearer token names."""

    room: RoomRef
    identity: str | None
    name: str
    bearer: str | None


class RenameSelf:
    """A participant changes their own display name, with their own SFU token, where the service allows it."""

    def __init__(
        self,
        locator: RoomLocator,
        sfu: Sfu,
        present: PresentParticipants,
        policy: ModerationPolicy,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self._locator = locator
        self._sfu = sfu
        self._present = present
        self._policy = policy
        self._audit = audit
        self._clock = clock

    async def execute(self, request: RenameSelfRequest) -> LiveParticipant:
        if not self._policy.allow_display_name_changes:
            raise RenamingDisabled
        name = clean_display_name(request.name)
        if not name:
            raise InvalidInput("The name must not be empty.", field="name")
        room, identity = await _yourself(self._locator, self._present, request.room, request.identity, request.bearer)
        live = await self._sfu.update_participant(room.sfu_room_name, identity, ParticipantUpdate(name=name))
        if not room.is_temporary:
            await self._audit.append(
                RoomEvent(
                    room.id,
                    Action.PARTICIPANT_RENAMED,
                    self._clock.now(),
                    Actor.user(identity),
                    subject=participant(identity, name),
                    details={"name": name},
                )
            )
        return live


async def _yourself(
    locator: RoomLocator, present: PresentParticipants, id_or_slug: RoomRef, identity: str | None, bearer: str | None
) -> tuple[Room, str]:
    """The room and the bearer's identity, when the bearer token proves its holder present there (and
    is ``identity``, when one is named)."""
    room = await locator.locate(id_or_slug)
    credentials = await present.bearer_of(room, bearer)
    if identity is not None and credentials.identity != identity:
        raise NotYourself
    return room, credentials.identity
