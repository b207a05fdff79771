from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from dishka import Provider, Scope, provide
from redis.asyncio import Redis

from meet.adapters.memory.bars import MemoryBars, MemoryRemovalRegistry
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemorySeenEvents
from meet.adapters.memory.presence import BatchedPresence
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisSeenEvents
from meet.adapters.redis.lobby import RedisBars, RedisLobbyStore
from meet.adapters.redis.removals import RedisRemovalRegistry
from meet.adapters.sqlalchemy.bars import SqlBarLedger
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.model import LobbyTimeouts
from meet.domain.lobby.notify import NotifyAdminsInRoom
from meet.domain.lobby.ports import BarLedger, KnockNotifier, LobbyEvents, LobbyPresence, LobbyStore
from meet.domain.lobby.use_cases import (
    AdmitEveryone,
    ClearLobbyWhenRoomFinishes,
    DecideEntry,
    ListWaiting,
    LobbyDoor,
    LobbyPolicy,
    RequestEntry,
    WaitForDecision,
    WatchWaiting,
)
from meet.domain.moderation.ports import RemovalRegistry
from meet.domain.shared.clock import Clock
from meet.entrypoints.settings import Settings


@dataclass(frozen=True, slots=True)
class LobbyBackend:
    """The lobby store and the removals, which share the room's bars (and their cache)."""

    store: LobbyStore
    removals: RemovalRegistry


class LobbyProvider(Provider):
    """The lobby: Redis when configured (shared by every process), else this process's memory."""

    @provide(scope=Scope.APP)
    def policy(self, settings: Settings) -> LobbyPolicy:
        return LobbyPolicy(
            timeouts=LobbyTimeouts(
                waiting=settings.lobby_waiting_timeout_seconds,
                accepted=settings.lobby_accepted_ttl_seconds,
                denied=settings.lobby_denied_ttl_seconds,
            ),
            knocks_per_minute_per_participant=settings.lobby_knocks_per_minute,
            new_participants_per_minute_per_address=settings.lobby_new_participants_per_minute_per_address,
            notify_timeout_seconds=settings.lobby_notify_timeout_seconds,
            keepalive_seconds=settings.lobby_keepalive_seconds,
        )

    @provide(scope=Scope.APP)
    def credentials(self, settings: Settings) -> LobbyCredentials:
        return LobbyCredentials(settings.secret_key)

    @provide(scope=Scope.APP)
    async def events(self, redis: Redis | None) -> AsyncIterator[LobbyEvents]:
        if redis is None:
            yield MemoryLobbyEvents()
            return
        events = RedisLobbyEvents(redis)
        yield events
        await events.aclose()

    ledger = provide(SqlBarLedger, scope=Scope.APP, provides=BarLedger)

    @provide(scope=Scope.APP)
    def backend(self, redis: Redis | None, events: LobbyEvents, ledger: BarLedger, clock: Clock) -> LobbyBackend:
        if redis is not None:
            bars = RedisBars(redis, ledger)
            return LobbyBackend(RedisLobbyStore(redis, bars), RedisRemovalRegistry(bars, clock))
        assert isinstance(events, MemoryLobbyEvents)
        memory_bars = MemoryBars(ledger)
        return LobbyBackend(MemoryLobbyStore(events, memory_bars), MemoryRemovalRegistry(memory_bars, clock))

    @provide(scope=Scope.APP)
    def store(self, backend: LobbyBackend) -> LobbyStore:
        return backend.store

    @provide(scope=Scope.APP)
    def removals(self, backend: LobbyBackend) -> RemovalRegistry:
        return backend.removals

    @provide(scope=Scope.APP)
    async def presence(self, store: LobbyStore, clock: Clock, policy: LobbyPolicy) -> AsyncIterator[LobbyPresence]:
        # Three refreshes per waiting timeout: an entry survives a missed one.
        presence = BatchedPresence(store, clock, policy.timeouts, period=policy.timeouts.waiting / 3)
        yield presence
        await presence.aclose()

    @provide(scope=Scope.APP)
    def seen_events(self, redis: Redis | None) -> SeenEvents:
        return RedisSeenEvents(redis) if redis is not None else MemorySeenEvents()

    notifier = provide(NotifyAdminsInRoom, scope=Scope.APP, provides=KnockNotifier)

    @provide(scope=Scope.APP)
    def announcer(self, notifier: KnockNotifier, policy: LobbyPolicy) -> KnockAnnouncer:
        return KnockAnnouncer(notifier, timeout_seconds=policy.notify_timeout_seconds)

    room_finished = provide(ClearLobbyWhenRoomFinishes, scope=Scope.APP)
    door = provide(LobbyDoor, scope=Scope.REQUEST)
    request_entry = provide(RequestEntry, scope=Scope.REQUEST)
    wait = provide(WaitForDecision, scope=Scope.REQUEST)
    list_waiting = provide(ListWaiting, scope=Scope.REQUEST)
    decide = provide(DecideEntry, scope=Scope.REQUEST)
    admit_all = provide(AdmitEveryone, scope=Scope.REQUEST)
    watch = provide(WatchWaiting, scope=Scope.REQUEST)
