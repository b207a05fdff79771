"""The lobby in one process's memory: the embedded default, and the domain's fast tests.

Same contract as the Redis adapter; atomic because every method runs without an ``await``
between reading and writing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from meet.adapters.fanout import FanOut, Heard, ParticipantFeed, RoomFeed
from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.door import MemoryDoors
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.domain.conference.bars import BarReason
from meet.domain.lobby.blocks import ADDRESS_BLOCK, denial_subjects
from meet.domain.lobby.errors import LobbyEntryNotFound
from meet.domain.lobby.model import (
    PASSED,
    DecisionResult,
    GateResult,
    KnockGate,
    KnockResult,
    LobbyEntry,
    LobbyEvent,
    LobbyEventType,
    LobbyMessage,
    LobbyStatus,
    LobbyTimeouts,
    WaitingPage,
)
from meet.domain.lobby.records import LobbyRecord
from meet.domain.lobby.whole_list import WholeWaitingList
from meet.domain.rooms.model import SfuRoomName
from meet.domain.shared.events import Action


class MemoryLobbyEvents:
    """Events of this process's own lobby store, routed by participant through the in-process index."""

    def __init__(self) -> None:
        self._fanout = FanOut()

    @asynccontextmanager
    async def of_participant(self, room: SfuRoomName, participant_id: str) -> AsyncIterator[ParticipantFeed]:
        feed = ParticipantFeed()
        self._fanout.add_participant(room, participant_id, feed)
        try:
            yield feed
        finally:
            self._fanout.remove_participant(room, participant_id, feed)

    @asynccontextmanager
    async def of_room(self, room: SfuRoomName) -> AsyncIterator[RoomFeed]:
        feed = RoomFeed()
        self._fanout.add_admin(room, feed)
        try:
            yield feed
        finally:
            self._fanout.remove_admin(room, feed)

    def publish(self, room: SfuRoomName, event: LobbyEvent) -> None:
        self._fanout.deliver(room, event)

    def deciding(self, room: SfuRoomName) -> None:
        self._fanout.deciding(room)

    def heard(self, room: SfuRoomName) -> Heard | None:
        return self._fanout.heard(room)  # the store publishes in the same step as it changes


@dataclasses.dataclass
class _Room:
    entries: dict[str, LobbyEntry] = dataclasses.field(default_factory=dict)
    expires: dict[str, datetime] = dataclasses.field(default_factory=dict)
    sequence: int = 0
    # The latest message to everyone waiting (key None) or to one of them.
    messages: dict[str | None, LobbyMessage] = dataclasses.field(default_factory=dict)


class MemoryLobbyRecords:
    """The lobby's records in process: appended by the store in each decision's step, claimed by the mover
    (in one process nobody else could claim them: what is claimed and never acknowledged is claimed again)."""

    def __init__(self) -> None:
        self._records: dict[str, LobbyRecord] = {}
        self._claimed: set[str] = set()
        self._sequence = 0

    def add(self, room: str, action: Action, at: datetime, **fields: Any) -> None:
        self._sequence += 1
        record_id = f"{self._sequence}"
        self._records[record_id] = LobbyRecord(id=record_id, room=room, action=action, at=at, **fields)

    async def claim(self, limit: int) -> Sequence[LobbyRecord]:
        claimed = list(self._records.values())[:limit]
        self._claimed.update(record.id for record in claimed)
        return claimed

    async def acknowledge(self, records: Sequence[LobbyRecord]) -> None:
        for record in records:
            self._records.pop(record.id, None)
            self._claimed.discard(record.id)


class MemoryLobbyStore:
    def __init__(
        self,
        events: MemoryLobbyEvents,
        bars: MemoryRoomBars,
        stamps: MemoryRoomStamps,
        records: MemoryLobbyRecords | None = None,
        doors: MemoryDoors | None = None,
    ) -> None:
        self.doors = doors if doors is not None else MemoryDoors()
        self._events = events
        self._bars = bars
        self._stamps = stamps
        self._records = records if records is not None else MemoryLobbyRecords()
        self._limiter = _WindowCounter()
        self._rooms: dict[str, _Room] = {}
        # Recent denials of each block identity, per room (kept with the bars: a lobby reset keeps them).
        self._denials: dict[str, dict[str, list[datetime]]] = {}

    async def pass_gate(self, room: SfuRoomName, gate: KnockGate, now: datetime) -> GateResult:
        passed = await self._gate(room, gate, now)
        if not passed.passed:
            return passed
        if gate.admin and self.doors.reopen(room, now):
            self._records.add(room, Action.ROOM_REOPENED, now, by=gate.by)
        kept_out = self.doors.shut(room, gate, now, direct=True)
        return GateResult(door=kept_out) if kept_out else PASSED

    async def _gate(self, room: SfuRoomName, gate: KnockGate, now: datetime) -> GateResult:
        bars = await self._bars.loaded(room, now) if gate.identities or gate.blocks else {}
        if gate.room_stamp is not None and not self._stamps.holds(room, gate.room_stamp):
            return GateResult(stale=True)
        retry_after = await self._limiter.hit(
            f"{room}:{gate.rate_bucket}", limit=gate.rate_limit, window_seconds=gate.window_seconds
        )
        if retry_after is not None:
            return GateResult(retry_after=retry_after)
        if any(bars.get(block, now) > now for block in gate.blocks):
            return GateResult(blocked=True)
        if any(bars.get(identity, now) > now for identity in gate.identities):
            return GateResult(barred=True)
        return PASSED

    def _room(self, room: SfuRoomName, now: datetime) -> _Room:
        state = self._rooms.setdefault(room, _Room())
        for participant_id in [p for p, deadline in state.expires.items() if deadline <= now]:
            del state.expires[participant_id]
            gone = state.entries.pop(participant_id)
            if gone.is_waiting:
                self._records.add(
                    room, Action.LOBBY_LEFT, now, participant_id=participant_id, name=gone.username, reason="expired"
                )
            self._events.publish(room, LobbyEvent(LobbyEventType.LEFT, participant_id))
        return state

    async def knock(
        self, room: SfuRoomName, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts, gate: KnockGate
    ) -> KnockResult:
        passed = await self._gate(room, gate, now)
        if not passed.passed:
            stored = self._room(room, now).entries.get(entry.participant_id) if passed.barred else None
            shown = stored if stored is not None and stored.status is LobbyStatus.DENIED else entry
            return KnockResult(shown, created=False, gate=passed)
        state = self._room(room, now)
        current = state.entries.get(entry.participant_id)
        if current is not None:
            if current.is_waiting:
                state.expires[current.participant_id] = now + timedelta(seconds=timeouts.waiting)
            return KnockResult(_with_message(state, current), created=False)
        kept_out = self.doors.shut(room, gate, now, direct=False)
        if kept_out is not None:
            return KnockResult(entry, created=False, gate=GateResult(door=kept_out))
        if gate.sent_back is not None:
            self.doors.of(room).held[entry.participant_id] = gate.sent_back
        state.sequence += 1
        entry = dataclasses.replace(entry, position=state.sequence)
        state.entries[entry.participant_id] = entry
        state.expires[entry.participant_id] = now + timedelta(seconds=timeouts.waiting)
        self._events.publish(room, LobbyEvent(LobbyEventType.KNOCKED, entry.participant_id, entry))
        self._records.add(room, Action.LOBBY_KNOCKED, now, participant_id=entry.participant_id, name=entry.username)
        return KnockResult(_with_message(state, entry), created=True)

    async def touch(
        self, room: SfuRoomName, participant_id: str, now: datetime, timeouts: LobbyTimeouts
    ) -> LobbyEntry | None:
        state = self._room(room, now)
        current = state.entries.get(participant_id)
        if current is not None and current.is_waiting:
            state.expires[participant_id] = now + timedelta(seconds=timeouts.waiting)
        return _with_message(state, current) if current is not None else None

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
        state = self._room(room, now)
        current = state.entries.get(participant_id)
        if current is None:
            return None
        if not current.is_waiting:
            return DecisionResult(current, changed=False)
        if allow and 0 < capacity <= self.doors.taken(room, now):
            return DecisionResult(current, changed=False, full=True)
        if allow:
            self.doors.hold_seat(room, participant_id, now)
            self.doors.lift(room, participant_id)
        decided = current.decided(allow=allow, by=decided_by, at=now, reason=reason)
        self._record(room, state, decided, now, timeouts)
        action = Action.LOBBY_ADMITTED if allow else Action.LOBBY_DENIED
        self._records.add(
            room,
            action,
            now,
            participant_id=participant_id,
            name=current.username,
            by=decided_by,
            reason=decided.reason,
        )
        if allow:
            return DecisionResult(decided, changed=True)
        blocked = self._count_denials(room, denial_subjects(participant_id, current.address), now, timeouts)
        self._log_blocks(room, blocked, participant_id, decided_by, now)
        await self._bars.bar(room, participant_id, now + timedelta(seconds=timeouts.denied), BarReason.DENIED)
        await self._bars.bar_many(room, blocked, now + timedelta(seconds=timeouts.blocked), BarReason.BLOCKED)
        return DecisionResult(decided, changed=True, blocked=blocked)

    def _count_denials(
        self, room: SfuRoomName, subjects: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> tuple[str, ...]:
        """Count a denial against each subject; answer those it blocks (denied too often in the window)."""
        counts = self._denials.setdefault(room, {})
        window = timedelta(seconds=timeouts.denial_window)
        blocked = []
        for subject in subjects:
            recent = [*(at for at in counts.get(subject, ()) if at > now - window), now]
            if len(recent) >= timeouts.denials_before_block:
                counts.pop(subject, None)
                blocked.append(subject)
            else:
                counts[subject] = recent
        if len(counts) > 100_000:  # keep memory bounded: forget subjects with no denial left in the window
            self._denials[room] = {k: v for k, v in counts.items() if v[-1] > now - window}
        return tuple(blocked)

    def _log_blocks(
        self, room: SfuRoomName, blocked: Sequence[str], participant_id: str | None, by: str, now: datetime
    ) -> None:
        for block in blocked:
            kind = "address" if block.startswith(ADDRESS_BLOCK) else "participant"
            self._records.add(room, Action.LOBBY_BLOCKED, now, participant_id=participant_id, by=by, reason=kind)

    def _record(
        self, room: SfuRoomName, state: _Room, entry: LobbyEntry, now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        state.entries[entry.participant_id] = entry
        state.expires[entry.participant_id] = now + timedelta(seconds=timeouts.for_status(entry.status))
        self._events.publish(room, LobbyEvent(LobbyEventType.DECIDED, entry.participant_id, entry))

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
        if stamp is not None and not self._stamps.holds(room, stamp):
            return None
        state = self._room(room, now)
        waiting = sorted((entry for entry in state.entries.values() if entry.is_waiting), key=lambda e: e.position)
        if capacity > 0:
            waiting = waiting[: max(0, capacity - self.doors.taken(room, now))]
        for entry in waiting:
            if capacity > 0:
                self.doors.hold_seat(room, entry.participant_id, now)
            self.doors.lift(room, entry.participant_id)
            self._record(room, state, entry.decided(allow=True, by=decided_by, at=now), now, timeouts)
        if waiting:
            self._records.add(room, Action.LOBBY_ADMITTED, now, by=decided_by, count=len(waiting))
        return len(waiting)

    async def deny_all(
        self, room: SfuRoomName, *, decided_by: str, now: datetime, timeouts: LobbyTimeouts, reason: str | None = None
    ) -> int:
        state = self._room(room, now)
        waiting = sorted((entry for entry in state.entries.values() if entry.is_waiting), key=lambda e: e.position)
        subjects: dict[str, None] = {}
        for entry in waiting:
            self._record(room, state, entry.decided(allow=False, by=decided_by, at=now, reason=reason), now, timeouts)
            subjects.update(dict.fromkeys(denial_subjects(entry.participant_id, entry.address)))
        if not waiting:
            return 0
        self._records.add(room, Action.LOBBY_DENIED, now, by=decided_by, count=len(waiting), reason=reason)
        blocked = self._count_denials(room, list(subjects), now, timeouts)
        self._log_blocks(room, blocked, None, decided_by, now)
        denied = [entry.participant_id for entry in waiting]
        await self._bars.bar_many(room, denied, now + timedelta(seconds=timeouts.denied), BarReason.DENIED)
        await self._bars.bar_many(room, blocked, now + timedelta(seconds=timeouts.blocked), BarReason.BLOCKED)
        return len(waiting)

    async def message(
        self,
        room: SfuRoomName,
        message: LobbyMessage,
        *,
        limit: int,
        window_seconds: int,
        timeouts: LobbyTimeouts,  # noqa: ARG002 - memory keeps them with the room
    ) -> int | None:
        now = message.sent_at
        state = self._room(room, now)
        to = message.participant_id
        if to is not None and not (to in state.entries and state.entries[to].status is LobbyStatus.WAITING):
            raise LobbyEntryNotFound
        retry_after = await self._limiter.hit(f"{room}:messages", limit=limit, window_seconds=window_seconds)
        if retry_after is not None:
            return retry_after
        state.messages[to] = message
        self._events.publish(room, LobbyEvent(LobbyEventType.MESSAGE, to, message=message))
        reached = 1 if to is not None else sum(1 for entry in state.entries.values() if entry.is_waiting)
        self._records.add(room, Action.LOBBY_MESSAGED, now, participant_id=to, by=message.sent_by, count=reached)
        return None

    async def waiting(
        self, room: SfuRoomName, *, limit: int, after: int | None, now: datetime, stamp: str | None = None
    ) -> WaitingPage:
        if stamp is not None and not self._stamps.holds(room, stamp):
            return WaitingPage(entries=(), count=0, next_cursor=None, stale=True)
        state = self._room(room, now)
        waiting = sorted((e for e in state.entries.values() if e.is_waiting), key=lambda e: e.position)
        start = [e for e in waiting if after is None or e.position > after]
        page = tuple(start[:limit])
        next_cursor = page[-1].position if len(start) > limit else None
        return WaitingPage(entries=page, count=len(waiting), next_cursor=next_cursor)

    async def revoke(self, room: SfuRoomName, participant_id: str) -> bool:
        state = self._rooms.get(room)
        if state is None or participant_id not in state.entries:
            return False
        del state.entries[participant_id]
        del state.expires[participant_id]
        self._events.publish(room, LobbyEvent(LobbyEventType.LEFT, participant_id))
        return True

    async def clear(self, room: SfuRoomName) -> None:
        state = self._rooms.get(room)
        left = sum(1 for entry in state.entries.values() if entry.is_waiting) if state else 0
        if left:
            self._records.add(room, Action.LOBBY_LEFT, datetime.now(UTC), count=left, reason="room_finished")
        if self._rooms.pop(room, None) is not None:
            self._events.publish(room, LobbyEvent(LobbyEventType.CLEARED))

    async def refresh(
        self, room: SfuRoomName, participant_ids: Sequence[str], now: datetime, timeouts: LobbyTimeouts
    ) -> None:
        state = self._room(room, now)
        for participant_id in participant_ids:
            current = state.entries.get(participant_id)
            if current is None:
                self._events.publish(room, LobbyEvent(LobbyEventType.LEFT, participant_id))
            elif current.is_waiting:
                state.expires[participant_id] = now + timedelta(seconds=timeouts.waiting)

    async def whole_waiting_list(
        self, room: SfuRoomName, *, now: datetime, stamp: str | None = None, known: str | None = None
    ) -> WholeWaitingList:
        if stamp is not None and not self._stamps.holds(room, stamp):
            return WholeWaitingList(version="", entries=None, stale=True)
        state = self._room(room, now)
        waiting = sorted((e for e in state.entries.values() if e.is_waiting), key=lambda e: e.position)
        # Here the version is a digest of the entries themselves (what Redis reads in O(1) instead).
        order = "\n".join(f"{e.participant_id} {e.position} {e.username} {e.requested_at.isoformat()}" for e in waiting)
        version = hashlib.sha1(order.encode(), usedforsecurity=False).hexdigest()
        return WholeWaitingList(version, entries=None if version == known else tuple(waiting))

    # The door's changes of the lobby (``MemoryRoomDoor``), each in one step as a Redis script.

    def end(self, room: SfuRoomName, *, by: str, now: datetime, until: datetime) -> int:
        state = self._rooms.pop(room, None)
        left = sum(1 for entry in state.entries.values() if entry.is_waiting) if state else 0
        self.doors.forget(room)
        self.doors.of(room).ended_until = until
        self._events.publish(room, LobbyEvent(LobbyEventType.ENDED))
        self._records.add(room, Action.ROOM_ENDED, now, by=by, count=left)
        return left

    def send_back(self, room: SfuRoomName, identity: str, *, by: str, now: datetime, waiting_seconds: int) -> bool:
        """True when ``identity`` is a guest's entry (waiting again), False for a member (suspended)."""
        state = self._room(room, now)
        door = self.doors.of(room)
        door.present.pop(identity, None)
        current = state.entries.get(identity)
        if current is None:
            door.held[identity] = "1"
        elif not current.is_waiting:
            state.sequence += 1
            again = dataclasses.replace(
                current, status=LobbyStatus.WAITING, decided_at=None, decided_by=None, position=state.sequence
            )
            state.entries[identity] = again
            state.expires[identity] = now + timedelta(seconds=waiting_seconds)
            self._events.publish(room, LobbyEvent(LobbyEventType.KNOCKED, identity, again))
        self._records.add(room, Action.PARTICIPANT_SENT_TO_LOBBY, now, participant_id=identity, by=by)
        return current is not None

    def lock(self, room: SfuRoomName, *, locked: bool, by: str, now: datetime) -> bool:
        door = self.doors.of(room)
        if door.locked == locked:
            return False
        door.locked = locked
        self._records.add(room, Action.ROOM_LOCKED if locked else Action.ROOM_UNLOCKED, now, by=by)
        return True

    def reopen(self, room: SfuRoomName, *, by: str, now: datetime) -> bool:
        if not self.doors.reopen(room, now):
            return False
        self._records.add(room, Action.ROOM_REOPENED, now, by=by)
        return True

    def joined(self, room: SfuRoomName, identity: str) -> bool:
        door = self.doors.of(room)
        state = self._rooms.get(room)
        waiting_again = state is not None and identity in state.entries and state.entries[identity].is_waiting
        if identity in door.held or waiting_again:
            return False
        door.present[identity] = None
        return True


def _with_message(state: _Room, entry: LobbyEntry) -> LobbyEntry:
    """The entry with the latest message to everyone waiting or to its participant, if any."""
    found = [m for m in (state.messages.get(None), state.messages.get(entry.participant_id)) if m is not None]
    if not found:
        return entry
    # On a tie, the message to the participant (the Redis store's choice too).
    return dataclasses.replace(entry, message=max(found, key=lambda m: (m.sent_at, m.participant_id is not None)))


class _WindowCounter:
    """A knock gate's rate limit: fixed windows per bucket, in this process only."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, bucket: str, *, limit: int, window_seconds: int) -> int | None:
        now = time.monotonic()
        started, count = self._windows.get(bucket, (now, 0))
        if now - started >= window_seconds:
            started, count = now, 0
        count += 1
        self._windows[bucket] = (started, count)
        if len(self._windows) > 100_000:  # keep memory bounded: forget windows that have ended
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < window_seconds}
        if count > limit:
            return max(1, int(window_seconds - (now - started)) + 1)
        return None


class MemorySeenEvents:
    def __init__(self, capacity: int = 100_000) -> None:
        self._seen: dict[str, None] = {}
        self._capacity = capacity

    async def first_time(self, event_id: str) -> bool:
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        if len(self._seen) > self._capacity:
            self._seen.pop(next(iter(self._seen)))
        return True

    async def forget(self, event_id: str) -> None:
        self._seen.pop(event_id, None)
