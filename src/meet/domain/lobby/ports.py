from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol, overload

from meet.domain.lobby.model import (
    DecisionResult,
    GateResult,
    KnockGate,
    KnockResult,
    LobbyEntry,
    LobbyEvent,
    LobbyMessage,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.whole_list import WholeWaitingList
from meet.domain.rooms.model import SfuRoomName


class LobbyStore(Protocol):
    """The waiting rooms, one per SFU room; every method is one atomic transition.

    Expired entries are dropped as time passes (``now`` is the caller's clock). Every change
    is published to ``LobbyEvents`` subscribers of the room. Adapters raise ``LobbyUnavailable``
    when their backing service is down.
    """

    async def knock(
        self, room: SfuRoomName, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts, gate: KnockGate
    ) -> KnockResult:
        """Pass ``gate``, then add ``entry`` unless its participant already has one (a waiting entry is
        kept alive), all in one step."""
        ...

    async def pass_gate(self, room: SfuRoomName, gate: KnockGate, now: datetime) -> GateResult:
        """Only the gate of a knock: for whoever the room lets in without waiting."""
        ...

    async def touch(
        self, room: SfuRoomName, participant_id: str, now: datetime, timeouts: LobbyTimeouts
    ) -> LobbyEntry | None:
        """The participant's current entry, kept alive if still waiting; None when absent."""
        ...

    async def decide(
        self,
        room: SfuRoomName,
        participant_id: str,
        *,
        allow: bool,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
        reason: str | None = None,
        capacity: int = 0,
    ) -> DecisionResult | None:
        """Record the first decision on a waiting entry; None when there is no such entry.

        A denial (with its ``reason``, stored on the entry) also bars the participant from the room for
        ``timeouts.denied``, durably (``RoomBars``), and is counted against the participant and its address
        in the same step: at ``timeouts.denials_before_block`` within ``timeouts.denial_window``, they are
        blocked (``lobby.blocks``) for ``timeouts.blocked``, durably too. An admission holds a seat; one
        beyond ``capacity`` (0: none) changes nothing and answers ``full``."""
        ...

    async def admit_all(
        self,
        room: SfuRoomName,
        *,
        decided_by: str,
        now: datetime,
        timeouts: LobbyTimeouts,
        capacity: int = 0,
        stamp: str | None = None,
    ) -> int | None:
        """Admit those waiting, in arrival order, as many as ``capacity`` (0: none) leaves seats for;
        answer how many. ``None`` (nothing decided) when the room's stamp is no longer ``stamp``, the
        stamp the caller read the room under (absent: nothing to check)."""
        ...

    async def deny_all(
        self, room: SfuRoomName, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts, reason: str | None = None
    ) -> int:
        """Deny everyone waiting in one step, each as ``decide`` would (bar, count, block; the bars written
        at once, not one by one); answer how many. A deny-all counts once against each participant and
        each address, however many of those it denied knocked from it."""
        ...

    async def message(
        self, room: SfuRoomName, message: LobbyMessage, *, limit: int, window_seconds: int, timeouts: LobbyTimeouts
    ) -> int | None:
        """Keep ``message`` as the latest to everyone waiting (or to its participant, who must be waiting:
        else ``LobbyEntryNotFound``) and publish it, counting it against the room's ``limit`` per
        ``window_seconds``: None when sent, else the seconds to wait before sending again."""
        ...

    async def waiting(
        self, room: SfuRoomName, *, limit: int, after: int | None, now: datetime, stamp: str | None = None
    ) -> WaitingPage:
        """Waiting entries in arrival order, after the position ``after`` (a cursor); a page marked
        ``stale`` (and empty) when ``stamp`` is given and no longer the room's (``RoomStamps``)."""
        ...

    async def revoke(self, room: SfuRoomName, participant_id: str) -> bool:
        """Drop the participant's entry whatever its state; answer whether there was one."""
        ...

    async def clear(self, room: SfuRoomName) -> None: ...

    async def refresh(
        self, room: SfuRoomName, participant_ids: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        """Keep the waiting ones among ``participant_ids`` alive, in one step; publish ``LEFT`` for those
        that have no entry any more (lost with the store, say), so their streams end."""
        ...

    async def whole_waiting_list(
        self, room: SfuRoomName, *, now: datetime, stamp: str | None = None, known: str | None = None
    ) -> WholeWaitingList:
        """Every waiting entry in arrival order and the list's version, in one step; no entries when
        the version is ``known``; marked ``stale`` (nothing read) as ``waiting`` does."""
        ...


class HeardMark(Protocol):
    """Where this process's hearing of a room's events stood at one moment (opaque to the domain)."""


class ParticipantEvents(Protocol):
    @overload
    async def next_event(self) -> LobbyEvent: ...
    @overload
    async def next_event(self, timeout: float) -> LobbyEvent | None: ...  # noqa: ASYNC109 - a wait bound
    async def next_event(self, timeout: float | None = None) -> LobbyEvent | None:  # noqa: ASYNC109 - a wait bound
        """The next event about this participant, or None when none came within ``timeout`` seconds
        (without one: the next event, however long it takes).

        Raises ``LobbyUnavailable`` once the channel was lost (events may have been missed).
        """
        ...

    def decisions_arriving(self) -> bool:
        """Whether decisions in this room reached this process (or were begun by it) a moment ago: a
        mass decision arrives over seconds, and one about this participant may still be on its way."""
        ...

    def heard_nothing_since(self, mark: HeardMark | None) -> bool:
        """Whether nothing of the room reached this process since ``mark`` (``LobbyEvents.heard``) and
        nothing could have been missed (the room's channel was heard all along): a state read after the
        mark is still current, as far as changes published since can tell. False without a mark."""
        ...


class RoomChanges(Protocol):
    async def next_changes(self, timeout: float | None = None) -> Sequence[LobbyEvent]:  # noqa: ASYNC109 - a wait bound
        """The room's changes since the last call, the latest one per participant, oldest first; empty
        when none came within ``timeout`` seconds (without one: never empty). Raises ``LobbyUnavailable``
        once the channel was lost."""
        ...


class LobbyEvents(Protocol):
    """Push channel of a room's lobby changes, shared by every API process.

    Delivery costs O(interested listeners): a participant's listener hears only about that participant
    (and a reset of the whole lobby), an admin's hears every change.
    """

    def of_participant(self, room: SfuRoomName, participant_id: str) -> AbstractAsyncContextManager[ParticipantEvents]:
        """Listen to one participant's changes; every change published after entering is heard."""
        ...

    def of_room(self, room: SfuRoomName) -> AbstractAsyncContextManager[RoomChanges]:
        """Listen to every change of the room's lobby; every change published after entering is heard."""
        ...

    def deciding(self, room: SfuRoomName) -> None:
        """This process is about to decide for many in the room (an admit-all): its participants' feeds
        tell ``decisions_arriving`` from now on, before the first decision comes back."""
        ...

    def heard(self, room: SfuRoomName) -> HeardMark | None:
        """A mark of what of the room this process heard so far, for ``heard_nothing_since``; None when
        the process does not hear the room right now (nobody here listens to it, or its channel is
        being re-established), so no mark can vouch for a state read after it."""
        ...


class LobbyPresence(Protocol):
    """Keeps a waiting entry alive while its participant holds a stream, on a schedule of its own
    (however busy the room is); an entry that vanished meanwhile is announced as ``LEFT``."""

    def holding(self, room: SfuRoomName, participant_id: str) -> AbstractAsyncContextManager[None]: ...


class KnockNotifier(Protocol):
    """Tells the room's admins who are already in the live room that people knocked (oldest first)."""

    async def knocked(self, room: SfuRoomName, entries: Sequence[LobbyEntry]) -> None: ...
