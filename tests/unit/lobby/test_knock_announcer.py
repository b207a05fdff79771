"""Knock notifications: never lost, never more than one in flight per room (a town hall's rush)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.model import LobbyEntry
from meet.domain.rooms.model import SfuRoomName

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def entry(name: str) -> LobbyEntry:
    return LobbyEntry.knock(f"id-{name}", name, NOW)


class GatedNotifier:
    """Holds every call until the test opens the gate; can fail or hang the first call."""

    def __init__(self, *, fail_first: bool = False, hang_first: bool = False) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.gate = asyncio.Event()
        self.fail_first = fail_first
        self.hang_first = hang_first

    async def knocked(self, room: str, entries: Sequence[LobbyEntry]) -> None:
        self.calls.append((room, [e.username for e in entries]))
        first = len(self.calls) == 1
        if first and self.hang_first:
            await asyncio.Event().wait()
        await self.gate.wait()
        if first and self.fail_first:
            raise RuntimeError("the SFU is down")


async def settle(condition: object, rounds: int = 200) -> None:
    """Let background tasks run until ``condition()`` holds (bounded by loop turns, not time)."""
    for _ in range(rounds):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0)
    raise AssertionError("the background notifications did not get there")


async def test_knocks_during_a_notification_go_out_together_in_the_next_one() -> None:
    notifier = GatedNotifier()
    announcer = KnockAnnouncer(notifier, timeout_seconds=10)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)
    for name in ("b", "c", "d"):
        announcer.announce(SfuRoomName("town-hall"), entry(name))
    await asyncio.sleep(0)
    assert notifier.calls == [("town-hall", ["first"])]  # nothing more while the first is in flight

    notifier.gate.set()
    await settle(lambda: len(notifier.calls) == 2)
    assert notifier.calls[1] == ("town-hall", ["b", "c", "d"])


async def test_rooms_do_not_wait_for_each_other() -> None:
    notifier = GatedNotifier()
    announcer = KnockAnnouncer(notifier, timeout_seconds=10)
    announcer.announce(SfuRoomName("room-a"), entry("alice"))
    announcer.announce(SfuRoomName("room-b"), entry("bob"))
    await settle(lambda: len(notifier.calls) == 2)
    assert sorted(notifier.calls) == [("room-a", ["alice"]), ("room-b", ["bob"])]


async def test_a_failed_notification_does_not_lose_the_knocks_queued_behind_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifier = GatedNotifier(fail_first=True)
    announcer = KnockAnnouncer(notifier, timeout_seconds=10)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)
    announcer.announce(SfuRoomName("town-hall"), entry("second"))
    notifier.gate.set()
    await settle(lambda: len(notifier.calls) == 2)
    assert notifier.calls[1] == ("town-hall", ["second"])
    assert "could not tell room town-hall's admins of 1 knock(s)" in caplog.text


async def test_a_hanging_notification_is_abandoned_and_the_next_knocks_still_go_out() -> None:
    notifier = GatedNotifier(hang_first=True)
    notifier.gate.set()
    announcer = KnockAnnouncer(notifier, timeout_seconds=0.01)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)
    announcer.announce(SfuRoomName("town-hall"), entry("second"))
    for _ in range(100):  # bounded: the first call's timeout must pass before the second can go
        if len(notifier.calls) == 2:
            break
        await asyncio.sleep(0.01)
    assert notifier.calls[1] == ("town-hall", ["second"])


async def test_once_drained_a_room_starts_afresh() -> None:
    notifier = GatedNotifier()
    notifier.gate.set()
    announcer = KnockAnnouncer(notifier, timeout_seconds=10)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)
    await asyncio.sleep(0)
    announcer.announce(SfuRoomName("town-hall"), entry("later"))
    await settle(lambda: len(notifier.calls) == 2)
    assert notifier.calls == [("town-hall", ["first"]), ("town-hall", ["later"])]


async def test_paced_a_rush_goes_out_as_one_message_per_interval_and_a_lone_knock_at_once() -> None:
    notifier = GatedNotifier()
    notifier.gate.set()
    announcer = KnockAnnouncer(notifier, timeout_seconds=10, pace_seconds=0.05)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)  # the first knock of a quiet room: at once
    for name in ("b", "c", "d"):
        announcer.announce(SfuRoomName("town-hall"), entry(name))
    for _ in range(100):  # bounded: the interval must pass before the next message
        if len(notifier.calls) == 2:
            break
        await asyncio.sleep(0.01)
    assert notifier.calls == [("town-hall", ["first"]), ("town-hall", ["b", "c", "d"])]


async def test_paced_nothing_more_goes_out_before_the_interval_has_passed() -> None:
    notifier = GatedNotifier()
    notifier.gate.set()
    announcer = KnockAnnouncer(notifier, timeout_seconds=10, pace_seconds=3600)
    announcer.announce(SfuRoomName("town-hall"), entry("first"))
    await settle(lambda: len(notifier.calls) == 1)
    announcer.announce(SfuRoomName("town-hall"), entry("second"))
    for _ in range(50):
        await asyncio.sleep(0)
    assert notifier.calls == [("town-hall", ["first"])]
