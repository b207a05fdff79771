from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from meet.adapters.livekit.rooms import LiveKitRooms
from meet.adapters.livekit.tokens import LiveKitTokenIssuer
from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore
from meet.adapters.presence import BatchedPresence
from meet.domain.conference.door import DoorPolicy
from meet.domain.conference.join import Admission
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.model import LobbyEntry, LobbyTimeouts
from meet.domain.lobby.use_cases import (
    AwaitChange,
    DecideEntry,
    EntryViews,
    ListWaiting,
    LobbyPolicy,
    RequestEntry,
    WaitForDecision,
)
from meet.domain.rooms.snapshots import RoomSnapshots
from tests.doubles.bars import DurableBarsDouble
from tests.support.clock import FakeClock
from tests.unit.rooms.conftest import World, world  # noqa: F401 - re-exported fixture

SECRET = "unit-test-secret-key-0123456789abcdef"


class RecordingNotifier:
    def __init__(self, *, hang: bool = False, fail: bool = False) -> None:
        self.knocks: list[tuple[str, LobbyEntry]] = []
        self.hang = hang
        self.fail = fail

    async def knocked(self, room: str, entries: Sequence[LobbyEntry]) -> None:
        self.knocks.extend((room, entry) for entry in entries)
        if self.fail:
            raise RuntimeError("the SFU is down")
        if self.hang:
            await asyncio.Event().wait()


@dataclass
class Lobby:
    world: World
    clock: FakeClock = field(default_factory=FakeClock)
    events: MemoryLobbyEvents = field(default_factory=MemoryLobbyEvents)
    notifier: RecordingNotifier = field(default_factory=RecordingNotifier)
    policy: LobbyPolicy = field(
        default_factory=lambda: LobbyPolicy(timeouts=LobbyTimeouts(waiting=30, accepted=600, denied=300))
    )
    credentials: LobbyCredentials = field(default_factory=lambda: LobbyCredentials(SECRET))

    def __post_init__(self) -> None:
        self.ledger = DurableBarsDouble()
        self.bars = MemoryRoomBars(self.ledger)
        self.store = MemoryLobbyStore(self.events, self.bars, self.world.stamps)
        # Refreshed by the tests themselves (``refresh_now``): nothing is timed.
        self.presence = BatchedPresence(self.store, self.clock, self.policy.timeouts, period=3600)
        self.admission = Admission(
            LiveKitTokenIssuer(url="ws://sfu", api_key="devkey", api_secret="secret", ttl=timedelta(minutes=10)),
            LiveKitRooms(),
        )

    def views(self) -> EntryViews:
        return EntryViews(self.admission, self.credentials)

    def request_entry(self) -> RequestEntry:
        announcer = KnockAnnouncer(self.notifier, timeout_seconds=self.policy.notify_timeout_seconds)
        return RequestEntry(
            RoomSnapshots(self.world.locator(), self.world.stamps, self.clock),
            self.credentials,
            self.views(),
            self.store,
            self.events,
            announcer,
            self.clock,
            self.policy,
            DoorPolicy(),
        )

    def wait(self) -> WaitForDecision:
        return WaitForDecision(
            self.world.locator(),
            self.credentials,
            self.views(),
            self.store,
            self.events,
            self.presence,
            self.bars,
            self.clock,
            self.policy,
        )

    def await_change(self) -> AwaitChange:
        return AwaitChange(
            RoomSnapshots(self.world.locator(), self.world.stamps, self.clock),
            self.views(),
            self.store,
            self.events,
            self.presence,
            self.clock,
            self.policy,
        )

    def list_waiting(self) -> ListWaiting:
        return ListWaiting(RoomSnapshots(self.world.locator(), self.world.stamps, self.clock), self.store, self.clock)

    def decide(self) -> DecideEntry:
        return DecideEntry(self.world.locator(), self.store, self.clock, self.policy, DoorPolicy())


@pytest.fixture
def lobby(world: World) -> Lobby:  # noqa: F811
    return Lobby(world)
