"""Who is kept out of a room: one port (``RoomBars``), the reasons, and which identities a request speaks for.

A bar keeps an identity (an SFU identity: a user's ``sub`` or a lobby participant id) out of one SFU room
until a moment: no token for it, no lobby entry, removed again if it joins. Removal and denial bar through
this port, and so will any later reason. The durable implementation outlives every cache in front of it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from meet.domain.rooms.model import SfuRoomName
from meet.domain.users.model import Viewer


class BarReason(enum.StrEnum):
    REMOVED = "removed"  # an admin removed the participant from the live room
    DENIED = "denied"  # an admin denied the participant's knock
    BLOCKED = "blocked"  # denied too often within a while: knocking is refused for longer


class RoomBars(Protocol):
    """Keeps identities out of SFU rooms until a moment, durably; the one port for who is kept out."""

    async def bar(self, room: SfuRoomName, identity: str, until: datetime, reason: BarReason) -> None:
        """Keep ``identity`` out of ``room`` until ``until`` (a later bar of the same identity wins)."""
        ...

    async def bar_many(self, room: SfuRoomName, identities: Sequence[str], until: datetime, reason: BarReason) -> None:
        """``bar`` for each of ``identities`` at once (a deny-all's): one write however many they are."""
        ...

    async def barred(self, room: SfuRoomName, identities: Sequence[str], now: datetime) -> frozenset[str]:
        """Which of ``identities`` a bar keeps out of ``room`` at ``now``."""
        ...

    async def active(self, room: SfuRoomName, now: datetime) -> Mapping[str, datetime]:
        """Every bar of ``room`` still holding at ``now``: identity -> until (what a cache loads)."""
        ...


def speaks_for(viewer: Viewer, participant_id: str | None = None) -> tuple[str, ...]:
    """The identities a request speaks for, each once: the lobby participant id it proved (if any), then
    the signed-in user's ``sub`` (if any). A bar on any of them keeps the request out."""
    return tuple(dict.fromkeys(identity for identity in (participant_id, viewer.sub) if identity))
