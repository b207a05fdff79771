"""Moderation of the live room: admins with their session, participants with their own SFU token (Bearer)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from dishka.integrations.litestar import FromDishka
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody

from meet.domain.conference.model import AUTHENTICATED_ATTRIBUTE, HAND_RAISED_ATTRIBUTE, role_in
from meet.domain.conference.sfu import LiveParticipant
from meet.domain.moderation.use_cases import (
    FORBIDDEN_PERMISSIONS,
    ChangeParticipant,
    ChangeParticipantRequest,
    ListLiveParticipants,
    ListLiveParticipantsRequest,
    MuteTrack,
    MuteTrackRequest,
    RaiseHand,
    RaiseHandRequest,
    RemoveParticipant,
    RemoveParticipantRequest,
    RenameSelf,
    RenameSelfRequest,
)
from meet.domain.rooms.model import Role, RoomRef, TrackSource
from meet.domain.users.model import Viewer
from meet.entrypoints.http.schemas import RequiredDisplayName, SourceName, StrictBool, bearer_token

AttributeKey = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
AttributeValue = Annotated[str, msgspec.Meta(max_length=1024)]


class TrackOut(msgspec.Struct):
    sid: str
    kind: str
    source: str
    muted: bool


class LiveParticipantOut(msgspec.Struct):
    identity: str
    name: str
    role: str | None
    is_authenticated: bool
    hand_raised_at: str | None
    attributes: dict[str, str]
    tracks: list[TrackOut]

    @classmethod
    def of(cls, participant: LiveParticipant) -> LiveParticipantOut:
        attributes = dict(participant.attributes)
        role = role_in(attributes)
        return cls(
            identity=participant.identity,
            name=participant.name,
            role=role.value if role else None,
            is_authenticated=attributes.get(AUTHENTICATED_ATTRIBUTE) == "true",
            hand_raised_at=attributes.get(HAND_RAISED_ATTRIBUTE) or None,
            attributes=attributes,
            tracks=[TrackOut(sid=t.sid, kind=t.kind, source=t.source, muted=t.muted) for t in participant.tracks],
        )


class LiveParticipantsOut(msgspec.Struct):
    participants: list[LiveParticipantOut]
    count: int


class MuteBody(msgspec.Struct, forbid_unknown_fields=True):
    track_sid: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class PermissionBody(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    can_publish_sources: list[SourceName] | None = None
    # Never granted: asking for one (true) is refused; false asks for nothing.
    hidden: StrictBool | None = None
    recorder: StrictBool | None = None
    agent: StrictBool | None = None


class ParticipantPatch(msgspec.Struct, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(pattern="^(member|administrator|owner)$")] | None = None
    name: RequiredDisplayName | None = None
    attributes: dict[AttributeKey, AttributeValue] | None = None
    permission: PermissionBody | None = None

    def to_request(self, viewer: Viewer, room: RoomRef, identity: str) -> ChangeParticipantRequest:
        permission = self.permission or PermissionBody()
        sources = permission.can_publish_sources
        return ChangeParticipantRequest(
            viewer,
            room,
            identity,
            role=Role(self.role) if self.role else None,
            name=self.name,
            attributes=self.attributes,
            publish_sources=None if sources is None else tuple(dict.fromkeys(TrackSource(s) for s in sources)),
            forbidden_permissions=tuple(f for f in FORBIDDEN_PERMISSIONS if getattr(permission, f) is True),
        )


class ParticipantChangeOut(msgspec.Struct):
    identity: str
    role: str | None
    live_updated: bool
    participant: LiveParticipantOut | None


class HandBody(msgspec.Struct, forbid_unknown_fields=True):
    raised: StrictBool


class NameBody(msgspec.Struct, forbid_unknown_fields=True):
    name: RequiredDisplayName


class ParticipantController(Controller):
    path = "/rooms/{id_or_slug:str}/participants"
    tags = ["moderation"]

    @get("/", summary="Who is in the live room now (owners and administrators)")
    async def list_participants(
        self, id_or_slug: str, viewer: FromDishka[Viewer], list_live: FromDishka[ListLiveParticipants]
    ) -> LiveParticipantsOut:
        participants = [
            LiveParticipantOut.of(p)
            for p in await list_live.execute(ListLiveParticipantsRequest(viewer, RoomRef(id_or_slug)))
        ]
        return LiveParticipantsOut(participants=participants, count=len(participants))

    @post("/{identity:str}/mute", status_code=200, summary="Mute one published track")
    async def mute(
        self,
        id_or_slug: str,
        identity: str,
        data: JSONBody[MuteBody],
        request: Request[Any, Any, Any],
        viewer: FromDishka[Viewer],
        mute_track: FromDishka[MuteTrack],
    ) -> dict[str, bool]:
        await mute_track.execute(
            MuteTrackRequest(viewer, RoomRef(id_or_slug), identity, data.track_sid, bearer=bearer_token(request))
        )
        return {"muted": True}

    @delete("/{identity:str}", summary="Remove from the live room and keep out for a while (admins)")
    async def remove(
        self, id_or_slug: str, identity: str, viewer: FromDishka[Viewer], remove: FromDishka[RemoveParticipant]
    ) -> None:
        await remove.execute(RemoveParticipantRequest(viewer, RoomRef(id_or_slug), identity))

    @patch("/{identity:str}", summary="Change role (persisted and live), name or attributes (admins)")
    async def change(
        self,
        id_or_slug: str,
        identity: str,
        data: JSONBody[ParticipantPatch],
        viewer: FromDishka[Viewer],
        change: FromDishka[ChangeParticipant],
    ) -> ParticipantChangeOut:
        result = await change.execute(data.to_request(viewer, RoomRef(id_or_slug), identity))
        return ParticipantChangeOut(
            identity=result.identity,
            role=result.role.value if result.role else None,
            live_updated=result.live_updated,
            participant=LiveParticipantOut.of(result.participant) if result.participant else None,
        )

    @post("/{identity:str}/hand", status_code=200, summary="Raise or lower one's own hand (participant token)")
    async def hand(
        self,
        id_or_slug: str,
        identity: str,
        data: JSONBody[HandBody],
        request: Request[Any, Any, Any],
        raise_hand: FromDishka[RaiseHand],
    ) -> LiveParticipantOut:
        participant = await raise_hand.execute(
            RaiseHandRequest(RoomRef(id_or_slug), identity, raised=data.raised, bearer=bearer_token(request))
        )
        return LiveParticipantOut.of(participant)

    @post("/{identity:str}/name", status_code=200, summary="Rename oneself (participant token)")
    async def rename(
        self,
        id_or_slug: str,
        identity: str,
        data: JSONBody[NameBody],
        request: Request[Any, Any, Any],
        rename: FromDishka[RenameSelf],
    ) -> LiveParticipantOut:
        participant = await rename.execute(
            RenameSelfRequest(RoomRef(id_or_slug), identity, name=data.name, bearer=bearer_token(request))
        )
        return LiveParticipantOut.of(participant)
