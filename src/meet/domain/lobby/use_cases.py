"""Lobby use cases: knock and wait (participant side), list and decide (admin side)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from meet.domain.conference.events import SfuEvent
from meet.domain.conference.join import Admission
from meet.domain.conference.model import ConnectionConfig
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.errors import AlreadyDecided, LobbyEntryNotFound
from meet.domain.lobby.model import (
    KnockGate,
    LobbyEntry,
    LobbyEvent,
    LobbyEventType,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.ports import LobbyEvents, LobbyPresence, LobbyStore
from meet.domain.rooms.lookup import RoomLocator
from meet.domain.rooms.model import Role, Room
from meet.domain.rooms.ports import EntryGuard
from meet.domain.rooms.use_cases import require_admin
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import RateLimited, ServiceUnavailable
from meet.domain.shared.ports import UnitOfWork
from meet.domain.users.model import Viewer

logger = logging.getLogger("meet.lobby")

ANONYMOUS_NAME = "Anonymous"


@dataclass(frozen=True, slots=True)
class LobbyPolicy:
    timeouts: LobbyTimeouts = field(default_factory=LobbyTimeouts)
    knocks_per_minute_per_participant: int = 120
    new_participants_per_minute_per_address: int = 600
    notify_timeout_seconds: float = 1.0
    keepalive_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class EntryView:
    """What a knocking participant learns: their entry, and a connection once accepted."""

    participant_id: str
    username: str
    color: str
    status: LobbyStatus
    room: str  # the SFU room the credential is bound to
    credential: str
    connection: ConnectionConfig | None = None


class LobbyDoor:
    """What the participant-side use cases share: the room, who is knocking, and what they may see."""

    def __init__(
        self,
        locator: RoomLocator,
        admission: Admission,
        store: LobbyStore,
        credentials: LobbyCredentials,
        guard: EntryGuard,
        clock: Clock,
        policy: LobbyPolicy,
    ) -> None:
        self.locator = locator
        self.admission = admission
        self.store = store
        self.credentials = credentials
        self.guard = guard
        self.clock = clock
        self.policy = policy

    def view(self, room: Room, viewer: Viewer, role: Role | None, entry: LobbyEntry) -> EntryView:
        connection = None
        if entry.status is LobbyStatus.ACCEPTED:
            connection = self.admission.connect(
                room, viewer, role, requested_name=entry.username, anonymous_identity=entry.participant_id
            )
        return EntryView(
            participant_id=entry.participant_id,
            username=entry.username,
            color=entry.color,
            status=entry.status,
            room=room.sfu_room_name,
            credential=self.credentials.issue(room.sfu_room_name, entry.participant_id),
            connection=connection,
        )

    def proven_participant(self, room: Room, candidates: Sequence[str]) -> str | None:
        """The participant id proven by the first credential valid for this room (header, then cookies)."""
        for candidate in candidates:
            participant_id = self.credentials.verify(room.sfu_room_name, candidate)
            if participant_id is not None:
                return participant_id
        return None

    async def is_barred(self, room: Room, viewer: Viewer, participant_id: str) -> bool:
        return await self.guard.is_barred(room, viewer.sub or participant_id)


class RequestEntry:
    """Knock (first call) or poll (later calls with the same credential).

    Whoever the join policy lets in directly gets a connection at once and leaves nothing
    in the store; everyone else waits for an admin's decision.
    """

    def __init__(self, door: LobbyDoor, announcer: KnockAnnouncer) -> None:
        self._door = door
        self._announcer = announcer

    async def execute(
        self,
        viewer: Viewer,
        id_or_slug: str,
        *,
        username: str | None,
        credentials: Sequence[str],
        client_address: str | None,
    ) -> EntryView:
        room = await self._door.locator.locate(id_or_slug)
        role = await self._door.locator.role_of(room, viewer)
        proven = self._door.proven_participant(room, credentials)
        participant_id = proven or str(uuid.uuid4())
        name = (username or "").strip() or (viewer.full_name or "").strip() or ANONYMOUS_NAME
        now = self._door.clock.now()
        knock = LobbyEntry.knock(participant_id, name, now)
        gate = self._gate(viewer, proven, client_address)
        store = self._door.store
        if room.lets_in_directly(authenticated=viewer.is_authenticated, role=role):
            passed = await store.pass_gate(room.sfu_room_name, gate, now)
            entry = knock.decided(allow=passed.passed, by="", at=now)
        else:
            result = await store.knock(room.sfu_room_name, knock, now, self._door.policy.timeouts, gate)
            passed, entry = result.gate, result.entry
            if result.created:
                self._announcer.announce(room.sfu_room_name, result.entry)
        if passed.retry_after is not None:
            raise RateLimited(passed.retry_after, "Too many knocks; wait before knocking again.")
        if passed.barred:
            entry = knock.decided(allow=False, by="", at=now)
        return self._door.view(room, viewer, role, entry)

    def _gate(self, viewer: Viewer, proven: str | None, client_address: str | None) -> KnockGate:
        """Checked by the store in the same step as the knock: the rate limit and the room's bars
        (a removal's, by account or participant id; a denial's, by participant id)."""
        identities = tuple(dict.fromkeys(i for i in (proven, viewer.sub) if i))
        policy = self._door.policy
        if proven is not None:
            return KnockGate(f"p:{proven}", policy.knocks_per_minute_per_participant, identities=identities)
        # New participants are counted per address and room, generously: a whole organisation may share one NAT.
        # (An id minted by this very request cannot be barred: only a signed-in caller's account can be.)
        address = client_address or "unknown"
        return KnockGate(f"a:{address}", policy.new_participants_per_minute_per_address, identities=identities)


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """One message of a participant's stream: their entry, a keep-alive, "your entry is gone", or
    "the lobby cannot be reached" (the stream's last message: reconnect shortly)."""

    kind: str  # "status" | "keepalive" | "gone" | "unavailable"
    entry: EntryView | None = None


class WaitForDecision:
    """Push the decision to a waiting participant; holding the stream keeps the entry alive.

    The keep-alive and the entry's refresh run on their own schedule, whatever else happens in the
    room: the stream only ever hears about its own participant.
    """

    def __init__(self, door: LobbyDoor, events: LobbyEvents, presence: LobbyPresence, uow: UnitOfWork) -> None:
        self._door = door
        self._events = events
        self._presence = presence
        self._uow = uow

    async def open(self, viewer: Viewer, id_or_slug: str, *, credentials: Sequence[str]) -> AsyncIterator[StreamUpdate]:
        """Check everything up front (so errors are proper HTTP answers), then return the stream."""
        room = await self._door.locator.locate(id_or_slug)
        role = await self._door.locator.role_of(room, viewer)
        participant_id = self._door.proven_participant(room, credentials)
        if participant_id is None:
            raise LobbyEntryNotFound
        entry = await self._door.store.touch(
            room.sfu_room_name, participant_id, self._door.clock.now(), self._door.policy.timeouts
        )
        if entry is None:
            raise LobbyEntryNotFound
        # A stream lasts minutes: give the database connection back before it starts.
        await self._uow.rollback()
        return self._updates(room, viewer, role, participant_id)

    async def _updates(
        self, room: Room, viewer: Viewer, role: Role | None, participant_id: str
    ) -> AsyncIterator[StreamUpdate]:
        try:
            async for update in self._followed(room, viewer, role, participant_id):
                yield update
        except ServiceUnavailable:
            # Events may have been missed: end cleanly, and the client reconnects for the current state.
            yield StreamUpdate("unavailable")

    async def _followed(
        self, room: Room, viewer: Viewer, role: Role | None, participant_id: str
    ) -> AsyncIterator[StreamUpdate]:
        name, period, timeouts = room.sfu_room_name, self._door.policy.keepalive_seconds, self._door.policy.timeouts

        async with (
            self._events.of_participant(name, participant_id) as feed,
            self._presence.holding(name, participant_id),
        ):
            # Read the state only once listening, so a decision taken in between is not missed.
            entry = await self._door.store.touch(name, participant_id, self._door.clock.now(), timeouts)
            if entry is not None and await self._door.is_barred(room, viewer, participant_id):
                entry = entry.decided(allow=False, by="", at=self._door.clock.now())
            next_keepalive = time.monotonic() + period
            while entry is not None:
                yield StreamUpdate("status", self._door.view(room, viewer, role, entry))
                if not entry.is_waiting:
                    return
                while True:
                    event = await feed.next_event(max(0.0, next_keepalive - time.monotonic()))
                    if event is not None:
                        break
                    next_keepalive += period
                    yield StreamUpdate("keepalive")
                entry = event.entry if event.type in _CARRIES_ENTRY else None
            yield StreamUpdate("gone")


_CARRIES_ENTRY = frozenset({LobbyEventType.DECIDED, LobbyEventType.KNOCKED})


class _AdminDesk:
    """What the admin-side use cases share: the room, which the caller must administer."""

    def __init__(self, locator: RoomLocator, store: LobbyStore, clock: Clock, policy: LobbyPolicy) -> None:
        self._locator = locator
        self._store = store
        self._clock = clock
        self._policy = policy

    async def _administered(self, viewer: Viewer, id_or_slug: str) -> Room:
        room = await self._locator.locate_registered(id_or_slug)
        await require_admin(self._locator, room, viewer)
        return room


MAX_PAGE = 200


class ListWaiting(_AdminDesk):
    """The waiting list in arrival order, a page at a time; a public room has none."""

    async def execute(self, viewer: Viewer, id_or_slug: str, *, limit: int, after: int | None) -> WaitingPage:
        room = await self._administered(viewer, id_or_slug)
        if room.lets_in_directly(authenticated=False, role=None):
            return WaitingPage(entries=(), count=0, next_cursor=None)
        return await self._store.waiting(
            room.sfu_room_name, limit=max(1, min(limit, MAX_PAGE)), after=after, now=self._clock.now()
        )


class DecideEntry(_AdminDesk):
    """Admit or deny one waiting participant; the first decision is the one recorded."""

    async def execute(self, viewer: Viewer, id_or_slug: str, participant_id: str, *, allow: bool) -> LobbyEntry:
        room = await self._administered(viewer, id_or_slug)
        if not _is_canonical_uuid(participant_id):
            raise LobbyEntryNotFound
        result = await self._store.decide(
            room.sfu_room_name,
            participant_id,
            allow=allow,
            decided_by=viewer.sub or "",
            now=self._clock.now(),
            timeouts=self._policy.timeouts,
        )
        if result is None:
            raise LobbyEntryNotFound
        wanted = LobbyStatus.ACCEPTED if allow else LobbyStatus.DENIED
        if not result.changed and result.entry.status is not wanted:
            raise AlreadyDecided(f"This participant was already {result.entry.status.value}.")
        return result.entry


class AdmitEveryone(_AdminDesk):
    async def execute(self, viewer: Viewer, id_or_slug: str) -> int:
        room = await self._administered(viewer, id_or_slug)
        return await self._store.admit_all(
            room.sfu_room_name, decided_by=viewer.sub or "", now=self._clock.now(), timeouts=self._policy.timeouts
        )


@dataclass(frozen=True, slots=True)
class WaitingListUpdate:
    """One message of an admin's stream: "listening" (first), changes, a keep-alive, or "the lobby
    cannot be reached" (last: reconnect and read the list again)."""

    kind: str  # "listening" | "changes" | "keepalive" | "unavailable"
    changes: Sequence[LobbyEvent] = ()


class WatchWaiting(_AdminDesk):
    """Push every change of the waiting list to an admin (knocks, decisions, departures), coalesced:
    what happened while the stream was busy comes as one batch, the latest change per participant."""

    def __init__(
        self,
        locator: RoomLocator,
        store: LobbyStore,
        clock: Clock,
        policy: LobbyPolicy,
        events: LobbyEvents,
        uow: UnitOfWork,
    ) -> None:
        super().__init__(locator, store, clock, policy)
        self._events = events
        self._uow = uow

    async def open(self, viewer: Viewer, id_or_slug: str) -> AsyncIterator[WaitingListUpdate]:
        room = await self._administered(viewer, id_or_slug)
        await self._uow.rollback()  # a stream lasts minutes: give the database connection back first
        return self._changes(room.sfu_room_name)

    async def _changes(self, room: str) -> AsyncIterator[WaitingListUpdate]:
        period = self._policy.keepalive_seconds
        try:
            async with self._events.of_room(room) as feed:
                yield WaitingListUpdate("listening")  # from here on no change is missed
                next_keepalive = time.monotonic() + period
                while True:
                    changes = await feed.next_changes(max(0.0, next_keepalive - time.monotonic()))
                    if changes:
                        yield WaitingListUpdate("changes", changes)
                    if time.monotonic() >= next_keepalive:
                        next_keepalive = time.monotonic() + period
                        yield WaitingListUpdate("keepalive")
        except ServiceUnavailable:
            yield WaitingListUpdate("unavailable")


class ClearLobbyWhenRoomFinishes:
    """SFU event handler: a finished room's lobby is emptied (its waiting people see "gone")."""

    def __init__(self, store: LobbyStore) -> None:
        self._store = store

    async def handle(self, event: SfuEvent) -> None:
        if event.kind == "room_finished" and event.room:
            await self._store.clear(event.room)


def _is_canonical_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False
