"""The collector waits while a mass decision is answered, and comes back by itself once it is over."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from meet.adapters.collector import CollectorPause
from meet.adapters.fanout import FanOut, ParticipantFeed
from meet.domain.lobby.model import LobbyEvent, LobbyEventType

SETTLE = 0.05
BOUND = 5.0  # seconds: a bound on a wait that should end, not a measure of anything


@pytest.fixture(autouse=True)
def collector_enabled() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


async def until_enabled() -> None:
    step = SETTLE / 5
    for _ in range(int(BOUND / step)):
        if gc.isenabled():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"the collector was still paused after {BOUND} s")


def room_with_a_held_poll(pause: CollectorPause) -> FanOut:
    fanout = FanOut(pause)
    fanout.add_participant("room", "someone", ParticipantFeed())
    return fanout


def decided() -> LobbyEvent:
    return LobbyEvent(LobbyEventType.DECIDED, participant_id="someone")


async def test_a_decision_reaching_a_held_poll_pauses_the_collector_until_the_decisions_stop() -> None:
    pause = CollectorPause(settle=SETTLE)
    fanout = room_with_a_held_poll(pause)
    fanout.deliver("room", decided())
    assert not gc.isenabled()
    assert pause.paused
    await until_enabled()
    assert not pause.paused


async def test_beginning_a_mass_decision_here_pauses_it_too() -> None:
    fanout = room_with_a_held_poll(CollectorPause(settle=SETTLE))
    fanout.deciding("room")
    assert not gc.isenabled()
    await until_enabled()


async def test_a_room_nobody_waits_in_here_leaves_the_collector_alone() -> None:
    fanout = FanOut(CollectorPause(settle=SETTLE))
    fanout.deliver("room", decided())
    fanout.deciding("room")
    assert gc.isenabled()


async def test_other_events_leave_the_collector_alone() -> None:
    fanout = room_with_a_held_poll(CollectorPause(settle=SETTLE))
    fanout.deliver("room", LobbyEvent(LobbyEventType.RESYNC))
    assert gc.isenabled()


async def test_each_decision_extends_the_pause() -> None:
    settle = 0.2
    pause = CollectorPause(settle=settle)
    pause.extend()
    loop = asyncio.get_running_loop()
    began = loop.time()
    while loop.time() - began < 2 * settle:  # decisions keep coming, each well within the settling time
        await asyncio.sleep(settle / 5)
        assert not gc.isenabled()
        pause.extend()
    await until_enabled()


async def test_decisions_that_never_stop_still_let_the_collector_run() -> None:
    pause = CollectorPause(settle=SETTLE, longest=3 * SETTLE)
    pause.extend()
    async with asyncio.timeout(BOUND):
        while not gc.isenabled():
            await asyncio.sleep(SETTLE / 5)
            if not gc.isenabled():
                pause.extend()
    assert gc.isenabled()


async def test_a_collector_something_else_switched_off_stays_off() -> None:
    gc.disable()
    pause = CollectorPause(settle=SETTLE)
    pause.extend()
    assert not pause.paused  # nothing will switch it back on
    assert not gc.isenabled()


def test_without_an_event_loop_nothing_is_paused() -> None:
    pause = CollectorPause(settle=SETTLE)
    pause.extend()
    assert gc.isenabled()
    assert not pause.paused


def test_a_pause_outliving_its_event_loop_ends_with_the_next_decision_or_the_app() -> None:
    pause = CollectorPause(settle=SETTLE)

    async def decision() -> None:
        pause.extend()

    async def decision_then_quiet() -> None:
        pause.extend()
        await until_enabled()

    asyncio.run(decision())  # its loop closed before the pause's timer could fire
    assert not gc.isenabled()
    asyncio.run(decision_then_quiet())  # another loop: a pause of its own, which ends
    assert gc.isenabled()

    asyncio.run(decision())
    pause.end()  # the app stops
    assert gc.isenabled()
    assert not pause.paused
