"""The same lobby contract runs against the memory adapters and the Redis adapters, on one real Redis
server and on a real Redis Cluster (three masters, one replica each)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster

from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.memory.door import MemoryRoomDoor
from meet.adapters.memory.entry import MemoryEntryCheck
from meet.adapters.memory.lobby import MemoryLobbyEvents, MemoryLobbyRecords, MemoryLobbyStore, MemorySeenEvents
from meet.adapters.memory.stamps import MemoryRoomStamps
from meet.adapters.redis.client import create_redis, open_redis_cluster
from meet.adapters.redis.events import RedisLobbyEvents
from meet.adapters.redis.limits import RedisSeenEvents
from meet.adapters.redis.lobby import RedisEntryCheck, RedisLobbyStore, RedisRoomBars
from meet.adapters.redis.lobby.door import RedisRoomDoor
from meet.adapters.redis.lobby.records import RedisLobbyRecords
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.adapters.redis.stamps import RedisRoomStamps
from meet.domain.conference.door import RoomDoor
from meet.domain.conference.events import SeenEvents
from meet.domain.conference.ports import EntryCheck
from meet.domain.lobby.ports import LobbyEvents, LobbyStore
from meet.domain.lobby.records import LobbyRecords
from meet.domain.rooms.ports import RoomStamps
from meet.domain.shared.clock import SystemClock
from tests.doubles.bars import DurableBarsDouble


@dataclass
class Backend:
    name: str
    store: LobbyStore
    events: LobbyEvents
    seen: SeenEvents
    ledger: DurableBarsDouble
    stamps: RoomStamps
    redis: Redis | RedisCluster | None = None
    entry_check: EntryCheck | None = None  # the join's check, on the same stamps and bars
    records: LobbyRecords | None = None
    door: RoomDoor | None = None  # the meeting's door, beside the same lobby

    def consumer(self) -> LobbyRecords:
        """Another process's mover of the same records (memory: there is no other process)."""
        if self.redis is None:
            assert self.records is not None
            return self.records
        return RedisLobbyRecords(self.redis, stale_ms=0)

    def forget_cache(self) -> LobbyStore:
        """A store that lost everything but the ledger (a restarted cache); Redis is flushed."""
        if isinstance(self.store, MemoryLobbyStore):
            events = MemoryLobbyEvents()
            return MemoryLobbyStore(events, MemoryRoomBars(self.ledger), MemoryRoomStamps())
        return self.store


@pytest.fixture(params=["memory", "redis", "redis-cluster"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[Backend]:
    ledger = DurableBarsDouble()
    if request.param == "memory":
        events, stamps, records = MemoryLobbyEvents(), MemoryRoomStamps(), MemoryLobbyRecords()
        bars = MemoryRoomBars(ledger)
        memory = MemoryLobbyStore(events, bars, stamps, records)
        memory_check = MemoryEntryCheck(stamps, bars, SystemClock(), memory.doors)
        yield Backend(
            "memory",
            memory,
            events,
            MemorySeenEvents(),
            ledger,
            stamps,
            entry_check=memory_check,
            records=records,
            door=MemoryRoomDoor(memory),
        )
        return
    if request.param == "redis-cluster":
        cluster = await open_redis_cluster(str(request.getfixturevalue("redis_cluster_url")))
        await cluster.flushdb()  # on every master
        sharded = RedisShardedLobbyEvents(cluster)
        try:
            store = RedisLobbyStore(cluster, RedisRoomBars(cluster, ledger), sharded=True)
            seen = RedisSeenEvents(cluster)
            check = RedisEntryCheck(cluster, RedisRoomBars(cluster, ledger), SystemClock())
            cluster_stamps = RedisRoomStamps(cluster)
            moved = RedisLobbyRecords(cluster)
            yield Backend(
                "redis-cluster",
                store,
                sharded,
                seen,
                ledger,
                cluster_stamps,
                cluster,
                entry_check=check,
                records=moved,
                door=RedisRoomDoor(cluster, sharded=True),
            )
        finally:
            await sharded.aclose()
            await cluster.aclose()
        return
    url: Any = request.getfixturevalue("redis_url")
    client = create_redis(url)
    await client.flushdb()
    redis_events = RedisLobbyEvents(client)
    store = RedisLobbyStore(client, RedisRoomBars(client, ledger))
    try:
        seen = RedisSeenEvents(client)
        check = RedisEntryCheck(client, RedisRoomBars(client, ledger), SystemClock())
        from_redis = RedisLobbyRecords(client)
        yield Backend(
            "redis",
            store,
            redis_events,
            seen,
            ledger,
            RedisRoomStamps(client),
            client,
            entry_check=check,
            records=from_redis,
            door=RedisRoomDoor(client),
        )
    finally:
        await redis_events.aclose()
        await client.aclose()
