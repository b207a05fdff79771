"""Lobby use cases: knock and wait (participant side), list and decide (admin side)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from meet.domain.conference.bars import RoomBars, speaks_for
from meet.domain.conference.door import DoorPolicy, DoorRefusal, RoomFull
from meet.domain.conference.events import SfuEvent
from meet.domain.conference.join import Admission
from meet.domain.conference.model import ConnectionConfig, display_name
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.blocks import blocks_for
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.errors import AlreadyDecided, LobbyBlocked, LobbyEntryNotFound
from meet.domain.lobby.model import (
    KnockGate,
    LobbyEntry,
    LobbyEvent,
    LobbyEventType,
    LobbyMessage,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.ports import HeardMark, LobbyEvents, LobbyPresence, LobbyStore
from meet.domain.rooms.lookup import RoomLocator, RoomVisit
from meet.domain.rooms.model import RoomRef, SfuRoomName
from meet.domain.rooms.snapshots import RoomSnapshots, StampedVisit
from meet.domain.shared.clock import Clock
from meet.domain.shared.errors import InvalidInput, RateLimited, ServiceUnavailable
from meet.domain.shared.text import clean_display_name, is_canonical_uuid
from meet.domain.users.model import Viewer

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class LobbyPolicy:
    timeouts: LobbyTimeouts = field(default_factory=LobbyTimeouts)
    knocks_per_minute_per_participant: int = 120
    new_participants_per_minute_per_address: int = 600
    notify_timeout_seconds: float = 1.0
    notify_pace_seconds: float = 0.25  # a room's knock notifications at most four a second
    messages_per_minute: int = 10  # an admin's messages to a room's waiting people


@dataclass(frozen=True, slots=True)
class EntryView:
    """What a knocking participant learns: their entry, and a connection once accepted."""

    participant_id: str
    username: str
    color: str
    status: LobbyStatus
    room: SfuRoomName  # the SFU room the credential is bound to
    credential: str
    connection: ConnectionConfig | None = None
    # The caller proved an earlier knock whose entry was still there: they already know this state
    # unless it changed since (a poll, not a knock).
    known: bool = False
    reason: str | None = None  # a denial's, as the admin gave it
    message: LobbyMessage | None = None  # the latest message to those waiting, while waiting
    # The door kept them out and no entry was made (``locked``, ``ended``): their status instead.
    door: DoorRefusal | None = None
    # What of the room's events this process had heard just before the entry was read (``LobbyEvents``):
    # a wait that follows hears nothing since, and need not read the entry again.
    heard: HeardMark | None = None

    @property
    def shown_status(self) -> str:
        """What the participant is told: their entry's status, or why the door kept them out."""
        return self.door.value if self.door else self.status.value


class EntryViews:
    """Shows a participant their entry: with their credential always, and a connection once accepted."""

    def __init__(self, admission: Admission, credentials: LobbyCredentials) -> None:
        self._admission = admission
        self._credentials = credentials

    async def of(
        self,
        visit: RoomVisit,
        viewer: Viewer,
        entry: LobbyEntry,
        *,
        known: bool = False,
        door: DoorRefusal | None = None,
        heard: HeardMark | None = None,
        credential: str | None = None,
    ) -> EntryView:
        """``credential``: the one this participant's poll already carries for this room (a credential is a
        function of the room and the participant: signing it again would give the same)."""
        room = visit.room
        connection = None
        if entry.status is LobbyStatus.ACCEPTED:
            connection = await self._admission.connect(
                room,
                viewer,
                visit.role,
                requested_name=entry.username,
                anonymous_identity=entry.participant_id,
                anonymous_color=entry.color,
            )
        return EntryView(
            participant_id=entry.participant_id,
            username=entry.username,
            color=entry.color,
            status=entry.status,
            room=room.sfu_room_name,
            credential=credential or self._credentials.issue(room.sfu_room_name, entry.participant_id),
            connection=connection,
            known=known,
            reason=entry.reason,
            message=entry.message if entry.is_waiting else None,
            door=door,
            heard=heard,
        )


@dataclass(frozen=True, slots=True)
class RequestEntryRequest:
    """``credentials``: what the client offered to prove an earlier knock (header first, then cookies)."""

    viewer: Viewer
    room: RoomRef
    username: str | None = None
    credentials: Sequence[str] = ()
    client_address: str | None = None


class RequestEntry:
    """Knock (first call) or poll (later calls with the same credential).

    Whoever the join policy lets in directly gets a connection at once and leaves nothing
    in the store; everyone else waits for an admin's decision.
    """

    def __init__(
        self,
        rooms: RoomSnapshots,
        credentials: LobbyCredentials,
        views: EntryViews,
        store: LobbyStore,
        events: LobbyEvents,
        announcer: KnockAnnouncer,
        clock: Clock,
        policy: LobbyPolicy,
        door: DoorPolicy,
    ) -> None:
        self._rooms = rooms
        self._credentials = credentials
        self._views = views
        self._store = store
        self._events = events
        self._announcer = announcer
        self._clock = clock
        self._policy = policy
        self._door = door

    async def execute(self, request: RequestEntryRequest) -> EntryView:
        # The room comes from this process's copy; the store's step checks the copy's stamp, and a room
        # that changed since is read again, so its change applies to this very knock.
        stamped = await self._rooms.stamped_visit(request.viewer, request.room)
        view = await self._enter(stamped, request)
        if view is None:
            view = await self._enter(await self._rooms.stamped_visit(request.viewer, request.room, fresh=True), request)
        if view is None:
            raise ServiceUnavailable("The room is being changed; try again.")
        return view

    async def _enter(self, stamped: StampedVisit, request: RequestEntryRequest) -> EntryView | None:
        """The knock (or poll) in the room as ``stamped`` saw it; None when the room changed since."""
        viewer, visit = request.viewer, stamped.visit
        room = visit.room
        proven = self._credentials.proven_participant(room.sfu_room_name, request.credentials)
        participant_id = proven or str(uuid.uuid4())
        now = self._clock.now()
        name = display_name(request.username, viewer.full_name)
        knock = LobbyEntry.knock(participant_id, name, now, address=request.client_address)
        gate = self._gate(viewer, proven, request.client_address, stamped.stamp, visit)
        known = False
        direct = room.lets_in_directly(authenticated=viewer.is_authenticated, role=visit.role)
        if direct:
            passed = await self._store.pass_gate(room.sfu_room_name, gate, now)
            entry = knock.decided(allow=passed.passed, by="", at=now)
            if passed.door is DoorRefusal.SENT_BACK:
                # Sent back to the lobby by an admin: this member waits like anyone, until admitted again.
                gate = replace(gate, sent_back=viewer.sub)
                direct = False
        heard = None
        if not direct:
            heard = self._events.heard(room.sfu_room_name)  # before the read: what changes after, it hears
            result = await self._store.knock(room.sfu_room_name, knock, now, self._policy.timeouts, gate)
            passed, entry = result.gate, result.entry
            known = proven is not None and not result.created
            if result.created:
                self._announcer.announce(room.sfu_room_name, result.entry)
        if passed.stale:
            return None
        if passed.retry_after is not None:
            raise RateLimited(passed.retry_after, "Too many knocks; wait before knocking again.")
        if passed.blocked:
            raise LobbyBlocked
        if passed.barred and entry.status is not LobbyStatus.DENIED:  # else the denial as stored (its reason)
            entry = knock.decided(allow=False, by="", at=now)
        elif passed.door is DoorRefusal.FULL:
            raise RoomFull
        elif passed.door is not None:
            return await self._views.of(visit, viewer, knock, door=passed.door)
        return await self._views.of(visit, viewer, entry, known=known, heard=heard)

    def _gate(
        self, viewer: Viewer, proven: str | None, client_address: str | None, stamp: str | None, visit: RoomVisit
    ) -> KnockGate:
        """Checked by the store in the same step as the knock: the room's stamp, the rate limit, the
        room's bars (a removal's, by account or participant id; a denial's, by participant id; a block of
        repeated knocking, by participant id or account, and for a newcomer by client address) and its door
        (an admin passes; the capacity, for whoever would enter directly)."""
        identities = speaks_for(viewer, proven)
        # An address's block stops newcomers (who could drop their credential to be counted afresh); someone
        # already known is counted, and blocked, by their own denials, whoever else shares their address.
        blocks = blocks_for(identities, client_address if proven is None else None)
        if proven is not None:
            bucket, limit = f"p:{proven}", self._policy.knocks_per_minute_per_participant
        else:
            # New participants are counted per address and room, generously: a whole organisation may share
            # one NAT. An id minted by this very request cannot be barred: only a signed-in caller's account
            # can be.
            bucket, limit = f"a:{client_address or 'unknown'}", self._policy.new_participants_per_minute_per_address
        return KnockGate(
            bucket,
            limit,
            identities=identities,
            room_stamp=stamp,
            blocks=blocks,
            admin=visit.is_administrable,
            capacity=self._door.capacity(visit.room.configuration.max_participants),
            by=viewer.sub,
        )


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """One message of a participant's stream: their entry, "your entry is gone", or "the lobby cannot
    be reached" (the stream's last message: reconnect shortly). Keep-alives are the transport's."""

    kind: str  # "status" | "message" | "gone" | "ended" (the meeting was ended for everyone) | "unavailable"
    entry: EntryView | None = None
    message: LobbyMessage | None = None  # with "message": what an admin said to those waiting

    @property
    def ends_stream(self) -> bool:
        """Nothing follows it: a decision, "gone" or "unavailable" (only "still waiting" and a message are
        followed)."""
        if self.kind == "message":
            return False
        return self.kind != "status" or (self.entry is not None and self.entry.status is not LobbyStatus.WAITING)


@dataclass(frozen=True, slots=True)
class WaitForDecisionRequest:
    viewer: Viewer
    room: RoomRef
    credentials: Sequence[str] = ()


class WaitForDecision:
    """Push the decision to a waiting participant; holding the stream keeps the entry alive.

    The entry's refresh (``LobbyPresence``) runs on its own schedule, whatever else happens in the
    room, and so do the transport's keep-alives: the stream only ever hears about its own participant,
    and an idle one waits for that alone.
    """

    def __init__(
        self,
        locator: RoomLocator,
        credentials: LobbyCredentials,
        views: EntryViews,
        store: LobbyStore,
        events: LobbyEvents,
        presence: LobbyPresence,
        bars: RoomBars,
        clock: Clock,
        policy: LobbyPolicy,
    ) -> None:
        self._locator = locator
        self._credentials = credentials
        self._views = views
        self._store = store
        self._events = events
        self._presence = presence
        self._bars = bars
        self._clock = clock
        self._policy = policy

    async def execute(self, request: WaitForDecisionRequest) -> AsyncIterator[StreamUpdate]:
        """Check everything up front (so errors are proper HTTP answers), then return the stream."""
        visit = await self._locator.visit(request.viewer, request.room)
        participant_id = self._credentials.proven_participant(visit.room.sfu_room_name, request.credentials)
        if participant_id is None:
            raise LobbyEntryNotFound
        entry = await self._store.touch(
            visit.room.sfu_room_name, participant_id, self._clock.now(), self._policy.timeouts
        )
        if entry is None:
            raise LobbyEntryNotFound
        return self._updates(visit, request.viewer, participant_id)

    async def _updates(self, visit: RoomVisit, viewer: Viewer, participant_id: str) -> AsyncIterator[StreamUpdate]:
        name = visit.room.sfu_room_name
        try:
            async with (
                self._events.of_participant(name, participant_id) as feed,
                self._presence.holding(name, participant_id),
            ):
                # Read the state only once listening, so a decision taken in between is not missed.
                entry = await self._store.touch(name, participant_id, self._clock.now(), self._policy.timeouts)
                if entry is not None and await self._bars.barred(
                    name, speaks_for(viewer, participant_id), self._clock.now()
                ):
                    entry = entry.decided(allow=False, by="", at=self._clock.now())
                while entry is not None:
                    yield StreamUpdate("status", await self._views.of(visit, viewer, entry))
                    if not entry.is_waiting:
                        return
                    event = await feed.next_event()
                    while event.type is LobbyEventType.MESSAGE:  # said to those waiting: the entry is unchanged
                        yield StreamUpdate("message", message=event.message)
                        event = await feed.next_event()
                    if event.type is LobbyEventType.ENDED:
                        yield StreamUpdate("ended")
                        return
                    if event.type is LobbyEventType.RESYNC:
                        entry = await self._store.touch(name, participant_id, self._clock.now(), self._policy.timeouts)
                    else:
                        entry = event.entry if event.type.carries_entry else None
                yield StreamUpdate("gone")
        except ServiceUnavailable:
            # Events may have been missed: end cleanly, and the client reconnects for the current state.
            yield StreamUpdate("unavailable")


@dataclass(frozen=True, slots=True)
class AwaitChangeRequest:
    """``seen``: the participant's entry as a poll just answered it (still waiting)."""

    viewer: Viewer
    room: RoomRef
    seen: EntryView
    seconds: float
    grace_seconds: float = 3.0  # how much longer a wait ending while the room's decisions arrive waits


class AwaitChange:
    """After a poll that found its entry still waiting: the participant's next state, pushed by the
    lobby's events, or ``None`` when nothing changed within ``seconds`` (or the entry is gone, which
    the next poll tells). Waiting keeps the entry alive, as a stream does.

    The poll that comes before it has located the room, checked the bars and kept the entry alive; this
    only listens, then reads the entry once (so a decision taken in between is not missed), unless
    nothing of the room reached this process since just before that poll read it: then the entry is
    as the poll saw it, and the read is saved (a town hall's idle polls are most of its load). A wait that
    ends while the room's decisions are arriving (or an admit-all was begun in this process) waits
    ``grace_seconds`` more, then reads the entry: an admit-all reaches thousands of polls over seconds,
    and a poll answered "waiting" just before its decision would come straight back.
    """

    def __init__(
        self,
        rooms: RoomSnapshots,
        views: EntryViews,
        store: LobbyStore,
        events: LobbyEvents,
        presence: LobbyPresence,
        clock: Clock,
        policy: LobbyPolicy,
    ) -> None:
        self._rooms = rooms
        self._views = views
        self._store = store
        self._events = events
        self._presence = presence
        self._clock = clock
        self._policy = policy

    async def execute(self, request: AwaitChangeRequest) -> EntryView | None:
        visit = (await self._rooms.stamped_visit(request.viewer, request.room)).visit
        name, participant_id = request.seen.room, request.seen.participant_id
        if visit.room.sfu_room_name != name:
            return None
        try:
            async with (
                self._events.of_participant(name, participant_id) as feed,
                self._presence.holding(name, participant_id),
            ):
                deadline = asyncio.get_running_loop().time() + request.seconds
                graced = False
                entry: LobbyEntry | None = None
                waiting = feed.heard_nothing_since(request.seen.heard)
                if not waiting:
                    entry = await self._store.touch(name, participant_id, self._clock.now(), self._policy.timeouts)
                    waiting = entry is not None and entry.is_waiting
                while waiting:
                    left = deadline - asyncio.get_running_loop().time()
                    event = await feed.next_event(timeout=left) if left > 0 else None
                    if event is None and not graced and feed.decisions_arriving():
                        # Decisions reach this room's polls a message at a time, over seconds: this
                        # participant's may be next. Wait for it a little longer, then read the entry
                        # (as on a resync), rather than answer "waiting" and be asked again within the second.
                        graced = True
                        event = await feed.next_event(timeout=request.grace_seconds) or LobbyEvent(
                            LobbyEventType.RESYNC
                        )
                    if event is None:
                        return None
                    if event.type is LobbyEventType.MESSAGE:
                        continue  # not a change of the entry: the next poll carries it
                    if event.type is LobbyEventType.RESYNC:
                        entry = await self._store.touch(name, participant_id, self._clock.now(), self._policy.timeouts)
                    else:
                        entry = event.entry if event.type.carries_entry else None
                    waiting = entry is not None and entry.is_waiting
        except ServiceUnavailable:
            return None  # events may have been missed: the next poll reads the state
        if entry is None:
            return None
        return await self._views.of(visit, request.viewer, entry, credential=request.seen.credential)


@dataclass(frozen=True, slots=True)
class ListWaitingRequest:
    viewer: Viewer
    room: RoomRef
    limit: int = 50
    after: int | None = None


class ListWaiting:
    """The waiting list in arrival order, a page at a time; a public room has none.

    The room and the caller's role come from this process's copy, whose stamp the store checks in the
    same step as it reads the page: a room or a role changed since is read again.
    """

    def __init__(self, rooms: RoomSnapshots, store: LobbyStore, clock: Clock) -> None:
        self._rooms = rooms
        self._store = store
        self._clock = clock

    async def execute(self, request: ListWaitingRequest) -> WaitingPage:
        limit = max(1, min(request.limit, MAX_PAGE))
        for fresh in (False, True):
            stamped = await self._rooms.stamped_administered(request.viewer, request.room, fresh=fresh)
            room = stamped.visit.room
            page = await self._store.waiting(
                room.sfu_room_name, limit=limit, after=request.after, now=self._clock.now(), stamp=stamped.stamp
            )
            if not page.stale:
                break
        else:
            raise ServiceUnavailable("The room is being changed; try again.")
        if room.lets_in_directly(authenticated=False, role=None):
            return WaitingPage(entries=(), count=0, next_cursor=None)
        return page


@dataclass(frozen=True, slots=True)
class DecideEntryRequest:
    viewer: Viewer
    room: RoomRef
    participant_id: str
    allow: bool
    reason: str | None = None  # a denial's, shown to the person denied


class DecideEntry:
    """Admit or deny one waiting participant; the first decision is the one recorded. An admission beyond
    the room's capacity is refused (``RoomFull``) and changes nothing."""

    def __init__(
        self, locator: RoomLocator, store: LobbyStore, clock: Clock, policy: LobbyPolicy, door: DoorPolicy
    ) -> None:
        self._locator = locator
        self._store = store
        self._clock = clock
        self._policy = policy
        self._door = door

    async def execute(self, request: DecideEntryRequest) -> LobbyEntry:
        room = (await self._locator.administered(request.viewer, request.room)).room
        reason = clean_display_name(request.reason)
        if request.reason is not None and request.allow:
            raise InvalidInput("A reason goes with a denial only.", field="reason")
        if not is_canonical_uuid(request.participant_id):
            raise LobbyEntryNotFound
        result = await self._store.decide(
            room.sfu_room_name,
            request.participant_id,
            allow=request.allow,
            decided_by=request.viewer.sub or "",
            now=self._clock.now(),
            timeouts=self._policy.timeouts,
            reason=reason,
            capacity=self._door.capacity(room.configuration.max_participants),
        )
        if result is None:
            raise LobbyEntryNotFound
        if result.full:
            raise RoomFull
        wanted = LobbyStatus.ACCEPTED if request.allow else LobbyStatus.DENIED
        if not result.changed and result.entry.status is not wanted:
            raise AlreadyDecided(f"This participant was already {result.entry.status.value}.")
        return result.entry


@dataclass(frozen=True, slots=True)
class AdmitEveryoneRequest:
    viewer: Viewer
    room: RoomRef


class AdmitEveryone:
    """Admit everyone waiting, in arrival order, as many as the room's capacity leaves seats for.

    The room and the caller's role come from this process's copy, whose stamp the store checks in the
    same step as it admits: a room or a role changed since is read again. (An admit-all comes when
    thousands wait, and their polls keep the process busy: each step to the database would wait its
    turn among them.)
    """

    def __init__(
        self,
        rooms: RoomSnapshots,
        store: LobbyStore,
        events: LobbyEvents,
        clock: Clock,
        policy: LobbyPolicy,
        door: DoorPolicy,
    ) -> None:
        self._rooms = rooms
        self._store = store
        self._events = events
        self._clock = clock
        self._policy = policy
        self._door = door

    async def execute(self, request: AdmitEveryoneRequest) -> int:
        for fresh in (False, True):
            stamped = await self._rooms.stamped_administered(request.viewer, request.room, fresh=fresh)
            room = stamped.visit.room
            self._events.deciding(room.sfu_room_name)  # the polls held here wait for these decisions
            admitted = await self._store.admit_all(
                room.sfu_room_name,
                decided_by=request.viewer.sub or "",
                now=self._clock.now(),
                timeouts=self._policy.timeouts,
                capacity=self._door.capacity(room.configuration.max_participants),
                stamp=stamped.stamp,
            )
            if admitted is not None:
                return admitted
        raise ServiceUnavailable("The room is being changed; try again.")


@dataclass(frozen=True, slots=True)
class WatchWaitingRequest:
    viewer: Viewer
    room: RoomRef


@dataclass(frozen=True, slots=True)
class WaitingListUpdate:
    """One message of an admin's stream: "listening" (first), how many wait, changes, or "the lobby
    cannot be reached" (last: reconnect and read the list again)."""

    kind: str  # "listening" | "waiting" | "changes" | "unavailable"
    changes: Sequence[LobbyEvent] = ()
    waiting: int = 0  # with "waiting": how many wait now


class WatchWaiting:
    """Push every change of the waiting list to an admin (knocks, decisions, departures), coalesced:
    what happened while the stream was busy comes as one batch, the latest change per participant.

    Each stream starts with how many wait, read once listening: a reconnecting admin learns the
    current state at once (and reads the list again if it changed), whatever was missed meanwhile.
    """

    def __init__(
        self, locator: RoomLocator, store: LobbyStore, events: LobbyEvents, clock: Clock, policy: LobbyPolicy
    ) -> None:
        self._locator = locator
        self._store = store
        self._events = events
        self._clock = clock
        self._policy = policy

    async def execute(self, request: WatchWaitingRequest) -> AsyncIterator[WaitingListUpdate]:
        room = (await self._locator.administered(request.viewer, request.room)).room
        return self._changes(room.sfu_room_name)

    async def _changes(self, room: SfuRoomName) -> AsyncIterator[WaitingListUpdate]:
        try:
            async with self._events.of_room(room) as feed:
                yield WaitingListUpdate("listening")  # from here on no change is missed
                page = await self._store.waiting(room, limit=1, after=None, now=self._clock.now())
                yield WaitingListUpdate("waiting", waiting=page.count)
                while True:
                    yield WaitingListUpdate("changes", await feed.next_changes())
        except ServiceUnavailable:
            yield WaitingListUpdate("unavailable")


class ClearLobbyWhenRoomFinishes:
    """SFU event handler: a finished room's lobby is emptied (its waiting people see "gone")."""

    def __init__(self, store: LobbyStore) -> None:
        self._store = store

    async def handle(self, event: SfuEvent) -> None:
        if event.kind == "room_finished" and event.room:
            await self._store.clear(event.room)
