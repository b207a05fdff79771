from __future__ import annotations

from collections.abc import AsyncIterator

from dishka import Provider, Scope, provide
from redis.asyncio import Redis, RedisCluster

from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyStore, MemoryRateLimiter, MemorySeenEvents
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisRateLimiter, RedisSeenEvents
from meet.adapters.redis.lobby import RedisLobbyStore
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.domain.conference.events import SeenEvents
from meet.domain.lobby.announce import KnockAnnouncer
from meet.domain.lobby.credentials import LobbyCredentials
from meet.domain.lobby.model import LobbyTimeouts
from meet.domain.lobby.notify import NotifyAdminsInRoom
from meet.domain.lobby.ports import KnockNotifier, LobbyEvents, LobbyStore, RateLimiter
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
from meet.entrypoints.settings import Settings


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
        events = RedisShardedLobbyEvents(redis) if isinstance(redis, RedisCluster) else RedisLobbyEvents(redis)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def store(self, redis: Redis | None, events: LobbyEvents) -> LobbyStore:
        if redis is not None:
            return RedisLobbyStore(redis, sharded=isinstance(redis, RedisCluster))
        assert isinstance(events, MemoryLobbyEvents)
        return MemoryLobbyStore(events)

    @provide(scope=Scope.APP)
    def rate_limiter(self, redis: Redis | None) -> RateLimiter:
        return RedisRateLimiter(redis) if redis is not None else MemoryRateLimiter()

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
