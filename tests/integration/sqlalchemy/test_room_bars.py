"""``RoomBars``, one contract: the durable bars (SQLite, PostgreSQL) and the caches in front of them
(memory, Redis, Redis Cluster) answer alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from meet.adapters.memory.bars import MemoryRoomBars
from meet.adapters.redis.client import create_redis, open_redis_cluster
from meet.adapters.redis.lobby import RedisRoomBars
from meet.adapters.sqlalchemy.bars import SqlRoomBars
from meet.domain.conference.bars import BarReason, RoomBars
from meet.domain.rooms.model import SfuRoomName
from tests.support.clock import FakeClock


@pytest.fixture(params=["sql", "memory", "redis", "redis-cluster"])
async def bars(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[RoomBars]:
    durable = SqlRoomBars(engine)
    if request.param == "sql":
        yield durable
    elif request.param == "memory":
        yield MemoryRoomBars(durable)
    elif request.param == "redis":
        client = create_redis(str(request.getfixturevalue("redis_url")))
        await client.flushdb()
        yield RedisRoomBars(client, durable)
        await client.aclose()
    else:
        cluster = await open_redis_cluster(str(request.getfixturevalue("redis_cluster_url")))
        await cluster.flushdb()
        yield RedisRoomBars(cluster, durable)
        await cluster.aclose()


async def test_barred_answers_which_identities_a_bar_holds_now_and_a_later_bar_wins(bars: RoomBars) -> None:
    clock = FakeClock()
    now = clock.now()
    assert await bars.barred(SfuRoomName("room-a"), ["zoe", "max"], now) == frozenset()
    await bars.bar(SfuRoomName("room-a"), "zoe", now + timedelta(seconds=60), BarReason.REMOVED)
    await bars.bar(
        SfuRoomName("room-a"), "zoe", now + timedelta(seconds=30), BarReason.DENIED
    )  # earlier: the later end stays
    await bars.bar(SfuRoomName("room-b"), "max", now + timedelta(seconds=60), BarReason.DENIED)
    assert await bars.barred(SfuRoomName("room-a"), ["zoe", "max"], now) == {"zoe"}
    assert await bars.barred(SfuRoomName("room-a"), [], now) == frozenset()
    assert await bars.active(SfuRoomName("room-a"), now) == {"zoe": now + timedelta(seconds=60)}
    assert await bars.barred(SfuRoomName("room-a"), ["zoe"], now + timedelta(seconds=45)) == {"zoe"}
    assert await bars.barred(SfuRoomName("room-a"), ["zoe"], now + timedelta(seconds=61)) == frozenset()


async def test_bar_many_bars_each_identity_in_one_write_and_a_later_bar_still_wins(bars: RoomBars) -> None:
    now = FakeClock().now()
    room = SfuRoomName("room-many")
    await bars.bar(room, "zoe", now + timedelta(seconds=90), BarReason.REMOVED)
    many = [f"guest-{n}" for n in range(2500)]
    await bars.bar_many(room, [*many, "zoe"], now + timedelta(seconds=60), BarReason.DENIED)
    await bars.bar_many(room, [], now + timedelta(seconds=60), BarReason.DENIED)  # nothing to write
    active = await bars.active(room, now)
    assert len(active) == 2501
    assert active["guest-0"] == active["guest-2499"] == now + timedelta(seconds=60)
    assert active["zoe"] == now + timedelta(seconds=90)  # the later end stays
    assert await bars.barred(room, ["guest-7", "nobody"], now) == {"guest-7"}
