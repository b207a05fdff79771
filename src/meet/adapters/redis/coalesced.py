"""Concurrent reads of one room's check, shared: one round trip serves every request that arrived before
it was sent.

A request may share a read only if that read is *sent after the request arrived*: a read already in
flight may have been answered before a change the request must see was committed. So a request that finds
a read in flight waits for the next one, which goes out the moment the current one lands, for everyone
who arrived meanwhile (their identities together). Under load a hot room (a town hall's joins) costs about
two round trips per batch of concurrent requests instead of one each; alone, a request costs what it did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=str)
T = TypeVar("T")


@dataclass
class _Room(Generic[T]):
    current: asyncio.Task[T]
    # The next read: its identities so far, and the future its answer goes to (None: nobody waits).
    waiting: asyncio.Future[T] | None = None
    identities: set[str] = field(default_factory=set)


class CoalescedReads(Generic[K, T]):
    """``read(room, identities)`` of one room at a time, shared by the requests that arrived before it
    was sent; at most one read in flight and one waiting per room."""

    def __init__(self, read: Callable[[K, frozenset[str]], Coroutine[Any, Any, T]]) -> None:
        self._read = read
        self._rooms: dict[K, _Room[T]] = {}

    async def read(self, room: K, identities: frozenset[str]) -> T:
        state = self._rooms.get(room)
        if state is None:
            task = self._launch(room, identities)
            self._rooms[room] = _Room(task)
            return await asyncio.shield(task)
        if state.waiting is None:
            state.waiting = asyncio.get_running_loop().create_future()
            state.waiting.add_done_callback(_retrieved)
        state.identities |= identities
        return await asyncio.shield(state.waiting)

    def _launch(self, room: K, identities: frozenset[str]) -> asyncio.Task[T]:
        task = asyncio.create_task(self._read(room, identities))
        task.add_done_callback(lambda done: self._landed(room, done))
        return task

    def _landed(self, room: K, done: asyncio.Task[T]) -> None:
        _retrieved(done)
        state = self._rooms[room]
        waiting = state.waiting
        if waiting is None:
            del self._rooms[room]
            return
        task = self._launch(room, frozenset(state.identities))
        self._rooms[room] = _Room(task)
        task.add_done_callback(lambda answered: _settle(waiting, answered))


def _retrieved(done: asyncio.Future[T]) -> None:
    """Whoever awaited it got its error; a request gone meanwhile leaves nothing to warn about."""
    if not done.cancelled():
        done.exception()


def _settle(future: asyncio.Future[T], answered: asyncio.Task[T]) -> None:
    if future.done():
        return
    if answered.cancelled():
        future.cancel()
    elif (error := answered.exception()) is not None:
        future.set_exception(error)
    else:
        future.set_result(answered.result())
