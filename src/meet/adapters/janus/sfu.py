"""The SFU port on Janus's VideoRoom plugin.

Rooms are created on demand with meet's room name as their string id, ``signed_tokens`` (a join needs a
token naming the room), and a secret derived from meet's secret key, so only meet can kick, moderate or
destroy. VideoRoom knows a participant's id, display name and streams, but not meet's grants: those come
back from the participant's own core token, which Janus keeps on the handle (``handle_info``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from meet.adapters.janus.client import JanusAdmin, JanusRefused
from meet.adapters.janus.tokens import JanusTokens, check_room_name
from meet.domain.conference.capabilities import SfuCapabilities
from meet.domain.conference.errors import ParticipantNotInRoom
from meet.domain.conference.sfu import LiveParticipant, ParticipantUpdate, PublishedTrack
from meet.domain.rooms.model import TrackSource

logger = logging.getLogger("meet.janus")

JANUS_CAPABILITIES = SfuCapabilities(
    identity_in_token=False,
    per_source_publish_grants=False,
    server_data_messages=False,
    room_metadata=False,
    participant_attributes=False,
    recording=False,
    close_room=True,  # VideoRoom's "destroy": every participant is told and dropped
)
_ROOM_EXISTS = 427
_SOURCES = {source.value: source for source in TrackSource}
_DEFAULT_SOURCE = {"audio": TrackSource.MICROPHONE, "video": TrackSource.CAMERA}


@dataclasses.dataclass(frozen=True, slots=True)
class JanusRoomSettings:
    publishers: int = 100
    bitrate: int = 1_024_000


def stream_source(stream: Mapping[str, Any]) -> str:
    """A stream's source: its description when it names one (``"screen_share"``), else by media type."""
    described = _SOURCES.get(str(stream.get("description", "")))
    if described is not None:
        return described.value
    default = _DEFAULT_SOURCE.get(str(stream.get("type", "")))
    return default.value if default else "unknown"


def published_tracks(streams: Sequence[Mapping[str, Any]]) -> tuple[PublishedTrack, ...]:
    return tuple(
        PublishedTrack(
            sid=str(stream.get("mid", "")),
            kind=str(stream.get("type", "unknown")),
            source=stream_source(stream),
            muted=bool(stream.get("moderated", False)),
        )
        for stream in streams
        if stream.get("mid") is not None and not stream.get("disabled", False)
    )


class JanusSfu:
    """``Sfu`` over VideoRoom requests sent through Janus's Admin API."""

    capabilities = JANUS_CAPABILITIES

    def __init__(
        self,
        admin: JanusAdmin,
        tokens: JanusTokens,
        *,
        room_secret_key: bytes,
        settings: JanusRoomSettings | None = None,
    ) -> None:
        self._admin = admin
        self._tokens = tokens
        self._room_key = room_secret_key
        self._settings = settings or JanusRoomSettings()

    def room_secret(self, room: str) -> str:
        """The room's secret (kick, moderate, destroy): derived, never stored, never sent to a client."""
        return hmac.new(self._room_key, f"janus-room:{room}".encode(), hashlib.sha256).hexdigest()

    async def ensure_room(self, room: str) -> None:
        """Create the VideoRoom room for ``room`` unless it exists (idempotent, safe to race)."""
        request = {
            "request": "create",
            "room": check_room_name(room),
            "admin_key": self._admin.server.admin_key,
            "secret": self.room_secret(room),
            "description": room,
            "is_private": True,
            "signed_tokens": True,
            "notify_joining": True,
            "permanent": False,
            "publishers": self._settings.publishers,
            "bitrate": self._settings.bitrate,
        }
        try:
            await self._admin.videoroom(request)
        except JanusRefused as error:
            if error.janus_code != _ROOM_EXISTS:
                raise

    async def destroy_room(self, room: str) -> None:
        await self._admin.videoroom({"request": "destroy", "room": room, "secret": self.room_secret(room)})

    async def _identities(self, room: str) -> list[dict[str, Any]]:
        data = await self._admin.videoroom({"request": "listparticipants", "room": room})
        participants = data.get("participants", [])
        return [p for p in participants if isinstance(p, dict)]

    async def _handles_in(self, room: str) -> dict[str, dict[str, Any]]:
        """The publisher handles in ``room``, by participant id: their plugin state and their core token."""
        found: dict[str, dict[str, Any]] = {}
        for session, handle in await self._admin.handles():
            info = await self._admin.handle_info(session, handle)
            specific = (info or {}).get("plugin_specific") or {}
            if specific.get("type") == "publisher" and specific.get("room") == room and "id" in specific:
                found[str(specific["id"])] = info or {}
        return found

    def _live(self, listed: Mapping[str, Any], info: Mapping[str, Any] | None) -> LiveParticipant:
        identity = str(listed.get("id", ""))
        name = str(listed.get("display", ""))
        attributes: dict[str, str] = {}
        sources: tuple[TrackSource, ...] = ()
        tracks: tuple[PublishedTrack, ...] = ()
        if info is not None:
            specific = info.get("plugin_specific") or {}
            tracks = published_tracks(specific.get("streams") or [])
            try:
                claims = self._tokens.claims(str(info.get("token", "")), check_expiry=False)
            except ValueError:
                claims = None
            if claims is not None and claims.identity == identity:
                # The name meet issued, not whatever display name the client sent.
                name, attributes, sources = claims.name, dict(claims.attributes), claims.publish_sources
        return LiveParticipant(
            identity=identity,
            name=name,
            attributes=attributes,
            tracks=tracks,
            can_publish=bool(sources),
            publish_sources=sources,
        )

    async def list_participants(self, room: str) -> Sequence[LiveParticipant]:
        listed = await self._identities(room)
        if not listed:
            return ()
        handles = await self._handles_in(room)
        return tuple(self._live(p, handles.get(str(p.get("id")))) for p in listed)

    async def get_participant(self, room: str, identity: str) -> LiveParticipant | None:
        try:
            participants = await self.list_participants(room)
        except ParticipantNotInRoom:
            return None
        return next((p for p in participants if p.identity == identity), None)

    async def _present(self, room: str, identity: str) -> LiveParticipant:
        participant = await self.get_participant(room, identity)
        if participant is None:
            raise ParticipantNotInRoom
        return participant

    async def update_participant(self, room: str, identity: str, update: ParticipantUpdate) -> LiveParticipant:
        """Only what Janus can do: publishing rights are enforced by moderating the streams now live."""
        if update.name is not None or update.attributes:
            self.capabilities.require("participant_attributes")
        current = await self._present(room, identity)
        if update.publish_sources is None:
            return current
        allowed = {source.value for source in update.publish_sources}
        tracks = []
        for track in current.tracks:
            # Janus reports moderation only for publishers whose media is up: (re)state it for every track.
            muted = track.source not in allowed
            await self.mute_published_track(room, identity, track.sid, muted=muted)
            tracks.append(dataclasses.replace(track, muted=muted))
        return dataclasses.replace(
            current,
            tracks=tuple(tracks),
            can_publish=bool(update.publish_sources),
            publish_sources=update.publish_sources,
        )

    async def remove_participant(self, room: str, identity: str) -> None:
        await self._admin.videoroom({"request": "kick", "room": room, "secret": self.room_secret(room), "id": identity})

    async def close_room(self, room: str) -> None:
        await self.destroy_room(room)

    async def mute_published_track(self, room: str, identity: str, track_sid: str, *, muted: bool = True) -> None:
        request = {
            "request": "moderate",
            "room": room,
            "secret": self.room_secret(room),
            "id": identity,
            "mid": track_sid,
            "mute": muted,
        }
        await self._admin.videoroom(request)

    async def send_data(self, room: str, payload: bytes, *, topic: str, destination_identities: Sequence[str]) -> None:  # noqa: ARG002 - the port's signature
        self.capabilities.require("server_data_messages")

    async def update_room_metadata(self, room: str, metadata: Mapping[str, Any]) -> None:  # noqa: ARG002 - the port's signature
        self.capabilities.require("room_metadata")
