"""The Redis adapters really talk cluster: rooms spread over the masters, pushes stay on their shard,
and a master's death is a failover the adapters ride out by themselves."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import redis
from redis.asyncio import RedisCluster

from meet.adapters.redis.client import open_redis_cluster
from meet.adapters.redis.lobby import RedisLobbyStore, RedisRoomBars
from meet.adapters.redis.lobby.keys import events_channel, room_keys
from meet.adapters.redis.sharded_events import RedisShardedLobbyEvents
from meet.domain.lobby.errors import LobbyUnavailable
from meet.domain.lobby.model import KnockGate, LobbyEntry, LobbyEvent, LobbyEventType, LobbyStatus, LobbyTimeouts
from meet.domain.lobby.ports import RoomChanges
from meet.domain.rooms.model import SfuRoomName
from tests.doubles.bars import DurableBarsDouble
from tests.support.clock import FakeClock
from tests.support.redis_cluster import RedisClusterServer

TIMEOUTS = LobbyTimeouts(waiting=120, accepted=600, denied=300)
FAILOVER_TIMEOUT = 60.0
OPEN = KnockGate("open", rate_limit=1_000_000)


@contextlib.asynccontextmanager
async def cluster_store(url: str) -> AsyncIterator[tuple[RedisCluster, RedisLobbyStore, RedisShardedLobbyEvents]]:
    client = await open_redis_cluster(url)
    events = RedisShardedLobbyEvents(client, reconnect_delay=0.2)
    try:
        yield client, RedisLobbyStore(client, RedisRoomBars(client, DurableBarsDouble()), sharded=True), events
    finally:
        await events.aclose()
        await client.aclose()


def node(port: int) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)


def masters(cluster: RedisClusterServer) -> list[int]:
    with contextlib.closing(cluster.client()) as client:
        return sorted(int(primary.port) for primary in client.get_primaries())  # type: ignore[no-untyped-call]


async def knock(store: RedisLobbyStore, room: str, clock: FakeClock) -> LobbyEntry:
    entry = LobbyEntry.knock(str(uuid.uuid4()), "Zoe", clock.now())
    return (await store.knock(SfuRoomName(room), entry, clock.now(), TIMEOUTS, OPEN)).entry


async def test_rooms_land_on_different_masters_each_room_whole_on_one(redis_cluster: RedisClusterServer) -> None:
    clock = FakeClock()
    rooms = [str(uuid.uuid4()) for _ in range(48)]
    async with cluster_store(redis_cluster.url) as (_, store, _events):
        for room in rooms:
            await knock(store, room, clock)
    # Asked of each master directly, not through the cluster client: whose keys does it hold?
    holder: dict[str, set[int]] = defaultdict(set)
    for port in masters(redis_cluster):
        with contextlib.closing(node(port)) as master:
            held = {key.decode() if isinstance(key, bytes) else key for key in master.keys("meet:lobby:*")}
        for room in rooms:
            if any(key in held for key in room_keys(room)):
                holder[room].add(port)
                assert set(room_keys(room)[:4]) <= held  # the whole room, entries to counter
    assert all(len(holder[room]) == 1 for room in rooms), holder  # one room, one master
    assert len({port for ports in holder.values() for port in ports}) == 3  # all 3 masters (p < 1e-8 of missing one)


async def test_a_rooms_events_go_only_to_its_shard(redis_cluster: RedisClusterServer) -> None:
    clock, room = FakeClock(), str(uuid.uuid4())
    channel = events_channel(room)
    owner = redis_cluster.master_of(channel)
    other = next(port for port in masters(redis_cluster) if port != owner)
    with contextlib.closing(node(owner)) as on_owner, contextlib.closing(node(other)) as on_other:
        sharded, classic = on_owner.pubsub(), on_other.pubsub()  # type: ignore[no-untyped-call]
        sharded.ssubscribe(channel)
        classic.subscribe(channel)
        sharded.get_sharded_message(timeout=1)  # the subscription confirmations
        classic.get_message(timeout=1)
        async with cluster_store(redis_cluster.url) as (_, store, _events):
            await knock(store, room, clock)
        message = sharded.get_sharded_message(timeout=5)
        assert message is not None
        assert message["type"] == "smessage"
        assert b'"type":"knocked"' in message["data"]
        assert classic.get_message(timeout=0.5) is None  # SPUBLISH: not broadcast over the cluster bus
        sharded.close()
        classic.close()


async def next_decision(feed: RoomChanges, participant_id: str, *, within: float) -> LobbyEvent | None:
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        for event in await feed.next_changes(left):
            if event.type is LobbyEventType.DECIDED and event.participant_id == participant_id:
                return event
    return None


async def wait_until_served(store: RedisLobbyStore, room: str, participant_id: str, clock: FakeClock) -> float:
    deadline = time.monotonic() + FAILOVER_TIMEOUT
    while time.monotonic() < deadline:
        try:
            await store.touch(SfuRoomName(room), participant_id, clock.now(), TIMEOUTS)
        except LobbyUnavailable:
            await asyncio.sleep(0.1)
            continue
        return time.monotonic()
    raise AssertionError(f"the lobby was not served again within {FAILOVER_TIMEOUT:.0f} s of the kill")


async def test_a_master_dies_and_the_lobby_and_its_push_come_back_by_themselves(
    disposable_redis_cluster: RedisClusterServer,
) -> None:
    cluster, clock, room = disposable_redis_cluster, FakeClock(), str(uuid.uuid4())
    async with cluster_store(cluster.url) as (_, store, events):
        waiting = [await knock(store, room, clock) for _ in range(20)]
        acknowledged = waiting[:10]
        for entry in acknowledged:
            result = await store.decide(
                SfuRoomName(room),
                entry.participant_id,
                allow=True,
                decided_by="admin",
                now=clock.now(),
                timeouts=TIMEOUTS,
            )
            assert result is not None
            assert result.changed
        async with events.of_room(room) as feed:
            outcomes: dict[str, int] = defaultdict(int)
            stop = asyncio.Event()

            async def poll(entry: LobbyEntry) -> None:
                while not stop.is_set():
                    try:
                        await store.touch(SfuRoomName(room), entry.participant_id, clock.now(), TIMEOUTS)
                        outcomes["ok"] += 1
                    except LobbyUnavailable:
                        outcomes["unavailable"] += 1
                    await asyncio.sleep(0.05)

            pollers = [asyncio.create_task(poll(entry)) for entry in waiting[10:15]]
            await asyncio.sleep(0.3)
            cluster.kill_node(cluster.master_of(room_keys(room)[0]))
            killed_at = time.monotonic()
            recovered_at = await wait_until_served(store, room, waiting[15].participant_id, clock)
            stop.set()
            await asyncio.gather(*pollers)  # any error other than LobbyUnavailable fails the test here
            assert outcomes["unavailable"] > 0  # the window was real
            assert set(outcomes) <= {"ok", "unavailable"}

            # Nothing acknowledged before the kill is lost, and the rest still waits in arrival order.
            for entry in acknowledged:
                seen = await store.touch(SfuRoomName(room), entry.participant_id, clock.now(), TIMEOUTS)
                assert seen is not None
                assert seen.status is LobbyStatus.ACCEPTED
            page = await store.waiting(SfuRoomName(room), limit=50, after=None, now=clock.now())
            assert [e.participant_id for e in page.entries] == [e.participant_id for e in waiting[10:]]

            # The push follows the room to the promoted replica: a decision taken after the failover
            # reaches the subscription opened before it (each try decides on someone else, until one
            # arrives: the re-subscription happens in the background, within bounded time).
            heard = None
            for entry in waiting[16:]:
                await store.decide(
                    SfuRoomName(room),
                    entry.participant_id,
                    allow=False,
                    decided_by="admin",
                    now=clock.now(),
                    timeouts=TIMEOUTS,
                )
                heard = await next_decision(feed, entry.participant_id, within=1.0)
                if heard is not None:
                    break
            assert heard is not None, "the subscription never heard of the room again after the failover"
            assert heard.entry is not None
            assert heard.entry.status is LobbyStatus.DENIED
    print(f"failover window: {recovered_at - killed_at:.1f} s, polls {dict(outcomes)}")


async def test_a_burst_on_a_freshly_opened_client_is_all_served(redis_cluster: RedisClusterServer) -> None:
    # A process starts under load: 64 knocks at once, then more, on a client just opened. (redis-py's
    # lazy first initialization fails some of them when they race it; open_redis_cluster avoids that.)
    clock, room = FakeClock(), str(uuid.uuid4())
    async with cluster_store(redis_cluster.url) as (_, store, _events):
        limit = asyncio.Semaphore(64)

        async def one() -> None:
            async with limit:
                await knock(store, room, clock)

        await asyncio.gather(*(one() for _ in range(500)))
        page = await store.waiting(SfuRoomName(room), limit=1, after=None, now=clock.now())
    assert page.count == 500


def run(client: redis.Redis, *args: Any) -> Any:
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def move_slot(cluster: RedisClusterServer, key: str) -> tuple[int, int]:
    """Migrate ``key``'s slot, keys and all, to another master, the way ``redis-cli --cluster reshard`` does."""
    with contextlib.closing(cluster.client()) as client:
        slot = int(client.keyslot(key))  # type: ignore[no-untyped-call]
    source = cluster.master_of(key)
    target = next(port for port in masters(cluster) if port != source)
    with contextlib.closing(node(source)) as src, contextlib.closing(node(target)) as dst:
        src_id, dst_id = run(src, "CLUSTER MYID"), run(dst, "CLUSTER MYID")
        run(dst, "CLUSTER SETSLOT", slot, "IMPORTING", src_id)
        run(src, "CLUSTER SETSLOT", slot, "MIGRATING", dst_id)
        while keys := run(src, "CLUSTER GETKEYSINSLOT", slot, 100):
            run(src, "MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
        for port in masters(cluster):
            with contextlib.closing(node(port)) as master:
                run(master, "CLUSTER SETSLOT", slot, "NODE", dst_id)
    return source, target


async def test_a_rooms_slot_moves_to_another_master_and_nothing_notices(
    disposable_redis_cluster: RedisClusterServer,
) -> None:
    cluster, clock, room = disposable_redis_cluster, FakeClock(), str(uuid.uuid4())
    async with cluster_store(cluster.url) as (_, store, events):
        people = [await knock(store, room, clock) for _ in range(5)]
        async with events.of_room(room) as feed:
            source, target = move_slot(cluster, room_keys(room)[0])
            assert cluster.master_of(room_keys(room)[0]) == target
            # The client's slot map still names the old master: MOVED, followed, never an error.
            page = await store.waiting(SfuRoomName(room), limit=10, after=None, now=clock.now())
            assert [e.participant_id for e in page.entries] == [e.participant_id for e in people]
            # The old master unsubscribed us from the room's channel; the push follows the slot.
            heard = None
            for entry in people:
                await store.decide(
                    SfuRoomName(room),
                    entry.participant_id,
                    allow=True,
                    decided_by="admin",
                    now=clock.now(),
                    timeouts=TIMEOUTS,
                )
                heard = await next_decision(feed, entry.participant_id, within=1.0)
                if heard is not None:
                    break
            assert heard is not None, f"no event after the slot moved from {source} to {target}"
