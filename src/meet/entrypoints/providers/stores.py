"""Where the lobby, rate limits, the bars cache, room stamps, webhook dedupe and sessions live: one Redis server or a
Redis Cluster (shared by every API process), or this process's memory (the single-process embedded
default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from dishka import AnyOf, Scope, provide
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import Redis, RedisCluster

from meet.adapters.memory.applications import (
    MemoryApplicationRevocations,
    MemoryRateLimiter,
    MemorySeenAssertions,
)
from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.door import MemoryDoors, MemoryRoomDoor
from meet.adapters.memory.entry import MemoryEntryCheck
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyRecords, MemoryLobbyStore, MemorySeenEvents
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.adapters.presence import BatchedPresence
from meet.adapters.redis.applications import RedisApplicationRevocations, RedisRateLimiter, RedisSeenAssertions
from meet.adapters.redis.client import (
    RedisClient,
    RedisClusterHealth,
    RedisHealth,
    create_redis,
    open_redis_cluster,
)
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisSeenEvents
from meet.adapters.redis.lobby import RedisEntryCheck, RedisLobbyStore, RedisRoomBars
from meet.adapters.redis.lobby.door import RedisRoomDoor
from meet.adapters.redis.lobby.records import RedisLobbyRecords
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.adapters.redis.stamps import RedisRoomStamps
from meet.adapters.sqlalchemy.bars import SqlRoomBars
from meet.domain.applications.bearer import RegistryCheckedRevocations
from meet.domain.applications.ports import ApplicationRegistry, ApplicationRevocations, RateLimiter, SeenAssertions
from meet.domain.conference.bars import RoomBars
from meet.domain.conference.door import RoomDoor
from meet.domain.conference.events import SeenEvents
from meet.domain.conference.ports import EntryCheck
from meet.domain.lobby.model import LobbyTimeouts
from meet.domain.lobby.ports import LobbyEvents, LobbyPresence, LobbyStore
from meet.domain.lobby.records import LobbyRecords
from meet.domain.rooms.ports import RoomStamps
from meet.domain.shared.clock import Clock
from meet.entrypoints.providers.health import BackendProvider
from meet.entrypoints.settings import Settings

SESSION_NAMESPACE = "meet-sessions"


@asynccontextmanager
async def _presence(store: LobbyStore, clock: Clock, settings: Settings) -> AsyncIterator[LobbyPresence]:
    """Waiting entries held by a stream are refreshed three times per waiting timeout (one missed refresh
    is survived), a room's all together."""
    timeouts = LobbyTimeouts(
        waiting=settings.lobby_waiting_timeout_seconds,
        accepted=settings.lobby_accepted_ttl_seconds,
        denied=settings.lobby_denied_ttl_seconds,
    )
    presence = BatchedPresence(store, clock, timeouts, period=timeouts.waiting / 3)
    try:
        yield presence
    finally:
        await presence.aclose()


class _RedisStores(BackendProvider):
    """What one Redis server and a Redis Cluster serve alike: single-key commands and one-key scripts."""

    seen_assertions = provide(RedisSeenAssertions, scope=Scope.APP, provides=SeenAssertions)
    revocations = provide(RedisApplicationRevocations, scope=Scope.APP, provides=ApplicationRevocations)
    rate_limiter = provide(RedisRateLimiter, scope=Scope.APP, provides=RateLimiter)

    @provide(scope=Scope.APP)
    def seen(self, client: RedisClient) -> SeenEvents:
        return RedisSeenEvents(client)

    @provide(scope=Scope.APP)
    def sessions(self, client: RedisClient) -> Store:
        # Litestar's RedisStore only sends single-key commands and a one-key script: a cluster client
        # serves them as well as a single-node one (its type hint names only the latter).
        return RedisStore(cast("Redis", client), namespace=SESSION_NAMESPACE)

    @provide(scope=Scope.APP)
    def bars(self, client: RedisClient, durable: SqlRoomBars) -> AnyOf[RedisRoomBars, RoomBars]:
        return RedisRoomBars(client, durable)

    @provide(scope=Scope.APP)
    def stamps(self, client: RedisClient) -> RoomStamps:
        return RedisRoomStamps(client)

    @provide(scope=Scope.APP)
    def entry_check(self, client: RedisClient, bars: RedisRoomBars, clock: Clock) -> EntryCheck:
        return RedisEntryCheck(client, bars, clock)

    @provide(scope=Scope.APP)
    async def presence(self, store: LobbyStore, clock: Clock, settings: Settings) -> AsyncIterator[LobbyPresence]:
        async with _presence(store, clock, settings) as presence:
            yield presence


class _RedisLobbyRecordsProvider(_RedisStores):
    @provide(scope=Scope.APP)
    def records(self, client: RedisClient, settings: Settings) -> LobbyRecords:
        return RedisLobbyRecords(client, stale_ms=settings.lobby_records_stale_seconds * 1000)


class RedisProvider(_RedisLobbyRecordsProvider):
    """One Redis server: one client (and connection pool) per process, behind every store; classic
    pub/sub for the lobby's push."""

    health_checks = (RedisHealth,)

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[AnyOf[Redis, RedisClient]]:
        client = create_redis(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def events(self, client: Redis) -> AsyncIterator[LobbyEvents]:
        events = RedisLobbyEvents(client)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def lobby(self, client: Redis, bars: RedisRoomBars) -> LobbyStore:
        return RedisLobbyStore(client, bars)

    @provide(scope=Scope.APP)
    def door(self, client: Redis) -> RoomDoor:
        return RedisRoomDoor(client)

    health = provide(RedisHealth, scope=Scope.APP)


class RedisClusterProvider(_RedisLobbyRecordsProvider):
    """A Redis Cluster (``MEET_REDIS_CLUSTER``), seeded by ``MEET_REDIS_URL``: one cluster client per
    process (a pool per node); the lobby's push on sharded pub/sub, one subscriber connection per master
    that holds a room someone in this process listens to."""

    health_checks = (RedisClusterHealth,)

    @provide(scope=Scope.APP)
    async def client(self, settings: Settings) -> AsyncIterator[AnyOf[RedisCluster, RedisClient]]:
        client = await open_redis_cluster(settings.redis_url)
        yield client
        await client.aclose()

    @provide(scope=Scope.APP)
    async def events(self, client: RedisCluster) -> AsyncIterator[LobbyEvents]:
        events = RedisShardedLobbyEvents(client)
        yield events
        await events.aclose()

    @provide(scope=Scope.APP)
    def lobby(self, client: RedisCluster, bars: RedisRoomBars) -> LobbyStore:
        return RedisLobbyStore(client, bars, sharded=True)

    @provide(scope=Scope.APP)
    def door(self, client: RedisCluster) -> RoomDoor:
        return RedisRoomDoor(client, sharded=True)

    health = provide(RedisClusterHealth, scope=Scope.APP)


class MemoryStoresProvider(BackendProvider):
    """Everything in this process's memory: one process only, lost at restart."""

    absent = ("redis", "the lobby and sessions in this process's memory: one process only")

    seen_assertions = provide(MemorySeenAssertions, scope=Scope.APP, provides=SeenAssertions)
    rate_limiter = provide(MemoryRateLimiter, scope=Scope.APP, provides=RateLimiter)

    @provide(scope=Scope.APP)
    def revocations(self, registry: ApplicationRegistry) -> ApplicationRevocations:
        return RegistryCheckedRevocations(MemoryApplicationRevocations(), registry)

    events = provide(MemoryLobbyEvents, scope=Scope.APP, provides=AnyOf[MemoryLobbyEvents, LobbyEvents])

    @provide(scope=Scope.APP)
    def bars(self, durable: SqlRoomBars) -> AnyOf[MemoryRoomBars, RoomBars]:
        return MemoryRoomBars(durable)

    stamps = provide(MemoryRoomStamps, scope=Scope.APP, provides=AnyOf[MemoryRoomStamps, RoomStamps])
    doors = provide(MemoryDoors, scope=Scope.APP)

    @provide(scope=Scope.APP)
    def entry_check(
        self, stamps: MemoryRoomStamps, bars: MemoryRoomBars, clock: Clock, doors: MemoryDoors
    ) -> EntryCheck:
        return MemoryEntryCheck(stamps, bars, clock, doors)

    records = provide(MemoryLobbyRecords, scope=Scope.APP, provides=AnyOf[MemoryLobbyRecords, LobbyRecords])

    @provide(scope=Scope.APP)
    async def presence(self, store: LobbyStore, clock: Clock, settings: Settings) -> AsyncIterator[LobbyPresence]:
        async with _presence(store, clock, settings) as presence:
            yield presence

    @provide(scope=Scope.APP)
    def memory_lobby(
        self,
        events: MemoryLobbyEvents,
        bars: MemoryRoomBars,
        stamps: MemoryRoomStamps,
        records: MemoryLobbyRecords,
        doors: MemoryDoors,
    ) -> AnyOf[MemoryLobbyStore, LobbyStore]:
        return MemoryLobbyStore(events, bars, stamps, records, doors)

    @provide(scope=Scope.APP)
    def door(self, store: MemoryLobbyStore) -> RoomDoor:
        return MemoryRoomDoor(store)

    @provide(scope=Scope.APP)
    def seen(self) -> SeenEvents:
        return MemorySeenEvents()

    @provide(scope=Scope.APP)
    def sessions(self) -> Store:
        return MemoryStore()
