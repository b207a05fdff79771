"""The whole waiting list of a room, read at once, with a version that changes whenever the list does.

La Suite Meet's frontend polls the whole list (not a page) every second per admin: most of those reads
find the list as it was. The version lets a reader that already holds the list at that version skip
the entries (``entries`` is ``None``): the store computes it from the list itself in the same step,
so an answer built for a version is provably the list's current state, whoever changed it.
"""

from __future__ import annotations

from dataclasses import dataclass

from meet.domain.lobby.model import LobbyEntry


@dataclass(frozen=True, slots=True)
class WholeWaitingList:
    """``version``: a digest of who waits and since when (every waiting entry is fixed while it waits:
    it changes only by leaving the list). ``entries`` in arrival order, ``None`` when the caller
    already knew this version; ``stale`` (nothing read) when the room changed since the caller read it."""

    version: str
    entries: tuple[LobbyEntry, ...] | None
    stale: bool = False
