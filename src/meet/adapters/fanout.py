"""In-process fan-out of lobby events: an index by room and participant id, fed by one source.

A participant's feed receives only the events about that participant (and a room-wide reset), so
delivering an event costs O(interested feeds), not O(feeds in the room). The admins' feeds get the
room's changes coalesced: whatever arrived while the admin's stream was busy comes as one batch,
one (the latest) change per participant. An idle feed is one object and, while its stream waits,
one future: no task, no queue, no timer.

A mass decision (admit-all, deny-all) reaches a process as a series of messages, read one after the
other while the process answers the polls the earlier ones woke: for a room with thousands of
waiting people that takes seconds. A feed tells whether its room's decisions are arriving (or one was
begun in this process), so that a wait ending meanwhile waits a moment more for its own, then reads the
state, rather than answer "waiting" with its decision still on its way.

A feed also tells whether anything of its room reached this process since a mark (``heard``) taken
before a store step: nothing heard, and the room's channel heard all along, means the step's answer
is still the participant's state, and a poll can be held without reading it again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import overload

from meet.adapters.collector import COLLECTOR, CollectorPause
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import LobbyEvent, LobbyEventType

# How long after a room's last decision reached this process more of them may still be on their way
# (the messages of one mass decision are read seconds apart when thousands of polls are answered).
DECISIONS_SETTLE_SECONDS = 5.0


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Inbox:
    __slots__ = ("_lost", "_waiter")

    def __init__(self) -> None:
        self._waiter: asyncio.Future[None] | None = None
        self._lost = False

    def lose(self) -> None:
        """The source broke: events may have been missed, so the waiting stream must end."""
        self._lost = True
        self._notify()

    def _notify(self) -> None:
        if self._waiter is not None:
            _wake(self._waiter)

    def _has_news(self) -> bool:
        raise NotImplementedError

    async def _wait(self, timeout: float | None) -> None:  # noqa: ASYNC109 - a wait bound, not a deadline
        if self._has_news() or self._lost or (timeout is not None and timeout <= 0):
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _wake, waiter) if timeout is not None else None
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            self._waiter = None

    def _raise_if_lost(self) -> None:
        if self._lost:
            raise LobbyUnavailable("The lobby's event channel was lost; reconnect shortly.")


class RoomNews:
    """What of a room reached this process: how many events, and when its last decision came (shared by
    the room's participant feeds; a new record when the room is listened to anew)."""

    __slots__ = ("heard", "last_decision")

    def __init__(self) -> None:
        self.heard = 0
        self.last_decision = -DECISIONS_SETTLE_SECONDS

    def decisions_arriving(self) -> bool:
        return time.monotonic() - self.last_decision < DECISIONS_SETTLE_SECONDS


_NO_NEWS = RoomNews()  # a feed's until the fan-out gives it its room's (never marked itself)


@dataclass(frozen=True, slots=True)
class Heard:
    """A mark: how much of a room's news this process had heard at one moment (``HeardMark``)."""

    news: RoomNews
    count: int


class ParticipantFeed(_Inbox):
    """The events about one participant, in order."""

    __slots__ = ("_pending", "news")

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[LobbyEvent] = []
        self.news = _NO_NEWS  # the room's own once the feed is in the index

    def put(self, event: LobbyEvent) -> None:
        self._pending.append(event)
        self._notify()

    def _has_news(self) -> bool:
        return bool(self._pending)

    @overload
    async def next_event(self) -> LobbyEvent: ...
    @overload
    async def next_event(self, timeout: float) -> LobbyEvent | None: ...  # noqa: ASYNC109 - a wait bound
    async def next_event(self, timeout: float | None = None) -> LobbyEvent | None:  # noqa: ASYNC109 - a wait bound
        await self._wait(timeout)
        if self._pending:
            return self._pending.pop(0)
        self._raise_if_lost()
        return None

    def decisions_arriving(self) -> bool:
        return self.news.decisions_arriving()

    def heard_nothing_since(self, mark: object) -> bool:
        """Whether nothing of the room reached this process since ``mark`` was taken (so nothing was missed
        either: a lost or re-subscribed channel counts as news)."""
        return isinstance(mark, Heard) and mark.news is self.news and mark.count == self.news.heard


class RoomFeed(_Inbox):
    """Every change of a room's lobby, coalesced per participant while nobody reads."""

    __slots__ = ("_changes", "_cleared")

    def __init__(self) -> None:
        super().__init__()
        self._changes: dict[str, LobbyEvent] = {}
        self._cleared: LobbyEvent | None = None

    def put(self, event: LobbyEvent) -> None:
        if event.type.whole_lobby or event.participant_id is None:
            self._changes.clear()
            self._cleared = event
        else:
            # The latest change of a participant is all an admin needs (re-inserted: it moves to the end).
            self._changes.pop(event.participant_id, None)
            self._changes[event.participant_id] = event
        self._notify()

    def _has_news(self) -> bool:
        return bool(self._changes) or self._cleared is not None

    async def next_changes(self, timeout: float | None = None) -> tuple[LobbyEvent, ...]:  # noqa: ASYNC109 - a wait bound
        await self._wait(timeout)
        batch = (*((self._cleared,) if self._cleared else ()), *self._changes.values())
        self._changes, self._cleared = {}, None
        if not batch:
            self._raise_if_lost()
        return batch


class FanOut:
    """The index of one process's feeds: room -> participant id -> feeds, and room -> admin feeds."""

    def __init__(self, collector: CollectorPause = COLLECTOR) -> None:
        self._collector = collector  # paused while decisions are answered here
        self._participants: dict[str, dict[str, list[ParticipantFeed]]] = {}
        self._news: dict[str, RoomNews] = {}  # for the rooms in ``_participants``
        self._admins: dict[str, list[RoomFeed]] = {}

    def watches(self, room: str) -> bool:
        return room in self._participants or room in self._admins

    def add_participant(self, room: str, participant_id: str, feed: ParticipantFeed) -> None:
        self._participants.setdefault(room, {}).setdefault(participant_id, []).append(feed)
        feed.news = self._news.setdefault(room, RoomNews())

    def remove_participant(self, room: str, participant_id: str, feed: ParticipantFeed) -> None:
        by_id = self._participants.get(room, {})
        feeds = by_id.get(participant_id, [])
        if feed in feeds:
            feeds.remove(feed)
        if not feeds:
            by_id.pop(participant_id, None)
        if not by_id:
            self._participants.pop(room, None)
            self._news.pop(room, None)

    def add_admin(self, room: str, feed: RoomFeed) -> None:
        self._admins.setdefault(room, []).append(feed)

    def remove_admin(self, room: str, feed: RoomFeed) -> None:
        feeds = self._admins.get(room, [])
        if feed in feeds:
            feeds.remove(feed)
        if not feeds:
            self._admins.pop(room, None)

    def deliver(self, room: str, event: LobbyEvent) -> None:
        if event.type is not LobbyEventType.MESSAGE:  # a message is for those waiting, not the list's
            for admin in self._admins.get(room, ()):
                admin.put(event)
        by_id = self._participants.get(room)
        if not by_id:
            return
        news = self._news[room]
        news.heard += 1
        if event.type is LobbyEventType.DECIDED:
            news.last_decision = time.monotonic()
            self._collector.extend()
        if event.type.whole_lobby or event.participant_id is None:
            for feeds in by_id.values():
                for feed in feeds:
                    feed.put(event)
        else:
            for feed in by_id.get(event.participant_id, ()):
                feed.put(event)

    def deciding(self, room: str) -> None:
        """This process begins a mass decision in ``room``: its feeds count decisions as arriving."""
        news = self._news.get(room)
        if news is not None:
            news.last_decision = time.monotonic()
            self._collector.extend()

    def heard(self, room: str) -> Heard | None:
        """A mark of what of ``room`` reached this process so far; None when nobody here listens to it."""
        news = self._news.get(room)
        return Heard(news, news.heard) if news is not None else None

    def missed(self, room: str) -> None:
        """Events of ``room`` may have been missed (its channel was lost): marks taken before no longer hold."""
        news = self._news.get(room)
        if news is not None:
            news.heard += 1

    def resync(self, room: str) -> None:
        """Every feed of ``room`` learns that events may have been missed and reads the state again."""
        self.deliver(room, LobbyEvent(LobbyEventType.RESYNC))

    def lose(self) -> None:
        """Every feed learns that events may have been missed (the source broke)."""
        for news in self._news.values():
            news.heard += 1
        for feed in self._feeds():
            feed.lose()

    def _feeds(self) -> Iterator[_Inbox]:
        for admins in self._admins.values():
            yield from admins
        for by_id in self._participants.values():
            for participant_feeds in by_id.values():
                yield from participant_feeds
