"""Shared reads of a room's check: a request never gets the answer of a read sent before it arrived."""

from __future__ import annotations

import asyncio

import pytest

from meet.adapters.redis.coalesced import CoalescedReads


class Backend:
    """Each read answers the value current when it was *sent*; the test releases reads one at a time."""

    def __init__(self) -> None:
        self.value = 0
        self.sent: list[tuple[str, frozenset[str]]] = []
        self.release: list[asyncio.Event] = []
        self.fail = False

    async def read(self, room: str, identities: frozenset[str]) -> tuple[int, frozenset[str]]:
        value = self.value  # what the store holds as the read goes out
        self.sent.append((room, identities))
        gate = asyncio.Event()
        self.release.append(gate)
        await gate.wait()
        if self.fail:
            raise ConnectionError("gone")
        return value, identities


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_request_arriving_during_a_read_waits_for_the_next_one_shared_by_all_who_arrived() -> None:
    backend = Backend()
    reads = CoalescedReads(backend.read)
    first = asyncio.create_task(reads.read("hall", frozenset({"a"})))
    await settle()
    assert len(backend.sent) == 1
    backend.value = 1  # a change committed while the first read is in flight
    late = [asyncio.create_task(reads.read("hall", frozenset({name}))) for name in ("b", "c")]
    await settle()
    assert len(backend.sent) == 1  # they wait: the read in flight may predate the change
    backend.release[0].set()
    assert await first == (0, frozenset({"a"}))
    await settle()
    assert backend.sent[1] == ("hall", frozenset({"b", "c"}))  # one read for both, after they arrived
    backend.release[1].set()
    assert [await task for task in late] == [(1, frozenset({"b", "c"}))] * 2
    assert len(backend.sent) == 2
    alone = asyncio.create_task(reads.read("hall", frozenset()))
    await settle()
    backend.release[2].set()
    assert await alone == (1, frozenset())  # nothing in flight: its own read at once


async def test_rooms_do_not_wait_for_each_other_and_errors_reach_every_waiter() -> None:
    backend = Backend()
    reads = CoalescedReads(backend.read)
    hall, board = (
        asyncio.create_task(reads.read("hall", frozenset())),
        asyncio.create_task(reads.read("board", frozenset())),
    )
    await settle()
    assert [room for room, _ in backend.sent] == ["hall", "board"]
    waiter = asyncio.create_task(reads.read("hall", frozenset()))
    await settle()
    backend.fail = True
    for gate in backend.release:
        gate.set()
    for task in (hall, board):
        with pytest.raises(ConnectionError):
            await task
    await settle()
    backend.release[-1].set()  # the waiter's own read, sent once the first landed
    with pytest.raises(ConnectionError):
        await waiter
    assert len(backend.sent) == 3
