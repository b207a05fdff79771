"""The join, the member join and the waiting list read the room and the caller's role from the process's
copy: every change made on one ``meet serve`` process applies to the very next request on another, on
one Redis and on a Redis Cluster, and a Redis that lost its keys makes every copy stale."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from livekit.api import TokenVerifier
from redis import Redis as SyncRedis
from redis.cluster import RedisCluster as SyncRedisCluster

from tests.support.livekit_server import LiveKitServer
from tests.support.served import Served, serve
from tests.support.services import ServiceNotFound

TIMEOUT = 15


@dataclass
class Two:
    one: Served
    two: Served
    redis: SyncRedis | SyncRedisCluster
    database: Path
    livekit: LiveKitServer


@pytest.fixture(scope="module", params=["redis", "redis-cluster"])
def two(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, livekit_server: LiveKitServer
) -> Iterator[Two]:
    tmp_path = tmp_path_factory.mktemp("join-copies")
    redis: SyncRedis | SyncRedisCluster
    if request.param == "redis-cluster":
        url = str(request.getfixturevalue("redis_cluster_url"))
        redis = SyncRedisCluster.from_url(url)
        stores: dict[str, str] = {"redis_url": url, "redis_cluster": "true"}
    else:
        url = str(request.getfixturevalue("redis_url"))
        redis = SyncRedis.from_url(url)
        stores = {"redis_url": url}
    redis.flushdb()
    settings: dict[str, Any] = {**stores, "data_dir": str(tmp_path / "var"), "livekit_url": livekit_server.url}
    try:
        with ExitStack() as stack:
            first = stack.enter_context(serve(tmp_path, **settings))  # migrates the shared database first
            second = stack.enter_context(serve(tmp_path, **settings))
            yield Two(first, second, redis, tmp_path / "var" / "meet.sqlite3", livekit_server)
    except ServiceNotFound as error:
        pytest.fail(str(error))
    finally:
        redis.close()


class People:
    """Signed-in people (sessions live in Redis: valid on both processes) and anonymous callers."""

    def __init__(self, client: httpx.AsyncClient, two: Two) -> None:
        self.client = client
        self.two = two
        self.cookies: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    async def sign_in(self, sub: str) -> None:
        response = await self.client.post(f"{self.two.one.base_url}/api/v1/auth/dev-login", json={"sub": sub})
        assert response.status_code == 200, response.text
        self.cookies[sub] = response.cookies["meet_session"]
        self.ids[sub] = response.json()["id"]
        self.client.cookies.clear()

    async def on(self, served: Served, method: str, path: str, user: str | None = None, **kwargs: Any) -> Any:
        headers = {"Cookie": f"meet_session={self.cookies[user]}"} if user else {}
        try:
            return await self.client.request(method, f"{served.base_url}/api/v1{path}", headers=headers, **kwargs)
        finally:
            self.client.cookies.clear()

    async def join(self, served: Served, room: str, user: str | None = None) -> dict[str, Any]:
        """The join's answer; ``connection`` is None when the caller does not enter directly."""
        response = await self.on(served, "GET", f"/rooms/{room}", user)
        assert response.status_code == 200, response.text
        return dict(response.json())


def room_admin(joined: dict[str, Any]) -> bool:
    grants = TokenVerifier("devkey", "secret").verify(joined["connection"]["token"]).video
    assert grants is not None
    return bool(grants.room_admin)


async def test_every_change_on_one_process_applies_to_the_next_request_on_the_other(two: Two) -> None:
    one, other = two.one, two.two
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        people = People(client, two)
        for sub in ("owner", "admin", "member"):
            await people.sign_in(sub)
        created = await people.on(one, "POST", "/rooms", "owner", json={"name": "Hall"})
        assert created.status_code == 201, created.text
        room = created.json()
        rid, accesses = room["id"], f"/rooms/{room['id']}/accesses"
        granted = {}
        for sub, role in (("admin", "administrator"), ("member", "member")):
            response = await people.on(one, "POST", accesses, "owner", json={"user_id": people.ids[sub], "role": role})
            assert response.status_code == 201, response.text
            granted[sub] = response.json()["id"]

        async def warm() -> None:
            """The other process takes its copies of the room and of each caller's role (twice: served
            from them the second time)."""
            for _ in range(2):
                await people.join(other, rid)
                for sub in ("owner", "admin", "member"):
                    await people.join(other, rid, sub)
                for sub in ("admin", "member"):  # 200 or 403, as their role stands: both copies
                    await people.on(other, "GET", f"/rooms/{rid}/waiting-participants", sub)

        # A room made restricted: the anonymous caller no longer enters directly, members still do.
        await warm()
        assert (await people.join(other, rid)).get("connection") is not None
        changed = await people.on(one, "PATCH", f"/rooms/{rid}", "owner", json={"access_level": "restricted"})
        assert changed.status_code == 200, changed.text
        anonymous = await people.join(other, rid)
        assert (anonymous["access_level"], anonymous.get("connection")) == ("restricted", None)
        assert (await people.join(other, rid, "member")).get("connection") is not None

        # An access revoked: the member waits in the lobby like anyone else.
        await warm()
        revoked = await people.on(one, "DELETE", f"{accesses}/{granted['member']}", "owner")
        assert revoked.status_code == 204, revoked.text
        assert (await people.join(other, rid, "member")).get("connection") is None

        # An access granted again: in directly at once.
        await warm()
        again = await people.on(
            one, "POST", accesses, "owner", json={"user_id": people.ids["member"], "role": "member"}
        )
        assert again.status_code == 201, again.text
        granted["member"] = again.json()["id"]
        assert (await people.join(other, rid, "member")).get("connection") is not None

        # An administrator demoted: no more room admin in the token, no more waiting list.
        await warm()
        assert room_admin(await people.join(other, rid, "admin"))
        assert (await people.on(other, "GET", f"/rooms/{rid}/waiting-participants", "admin")).status_code == 200
        demoted = await people.on(one, "PATCH", f"{accesses}/{granted['admin']}", "owner", json={"role": "member"})
        assert demoted.status_code == 200, demoted.text
        assert (await people.on(other, "GET", f"/rooms/{rid}/waiting-participants", "admin")).status_code == 403
        joined = await people.join(other, rid, "admin")
        assert (joined["is_administrable"], room_admin(joined)) == (False, False)

        # A member promoted live (moderation): the waiting list is theirs at once.
        await warm()
        two.livekit.add_participant(rid, "member")
        promoted = await people.on(
            one, "PATCH", f"/rooms/{rid}/participants/member", "owner", json={"role": "administrator"}
        )
        assert promoted.status_code == 200, promoted.text
        assert (await people.on(other, "GET", f"/rooms/{rid}/waiting-participants", "member")).status_code == 200
        assert room_admin(await people.join(other, rid, "member"))

        # A removal: the removed account gets no connection, though its role still lets it in.
        await warm()
        two.livekit.add_participant(rid, "admin")
        removed = await people.on(one, "DELETE", f"/rooms/{rid}/participants/admin", "owner")
        assert removed.status_code == 204, removed.text
        kept_out = await people.join(other, rid, "admin")
        assert (kept_out["id"], kept_out.get("connection")) == (rid, None)
        assert (await people.join(other, rid, "member")).get("connection") is not None

        # A rename: the old name no longer reaches the room, the new one does.
        await warm()
        old_slug = room["slug"]
        assert (await people.join(other, old_slug))["id"] == rid
        renamed = await people.on(one, "PATCH", f"/rooms/{rid}", "owner", json={"name": "Great Hall"})
        assert renamed.status_code == 200, renamed.text
        assert (await people.join(other, old_slug))["id"] != rid  # a temporary room of that name now
        assert (await people.join(other, renamed.json()["slug"]))["id"] == rid

        # A deletion: gone at once.
        await warm()
        deleted = await people.on(one, "DELETE", f"/rooms/{rid}", "owner")
        assert deleted.status_code == 204, deleted.text
        assert (await people.on(other, "GET", f"/rooms/{rid}")).status_code == 404
        assert (await people.on(other, "GET", f"/rooms/{rid}", "member")).status_code == 404
        assert (await people.on(other, "GET", f"/rooms/{rid}/waiting-participants", "member")).status_code == 404


async def test_a_redis_that_lost_its_keys_makes_every_copy_stale(two: Two) -> None:
    """A change written to the database alone (as if its stamp's renewal had been lost) is not seen while
    the copy's stamp holds; once Redis has lost the stamp (a flush, a restart), the very next join reads it."""
    one, other = two.one, two.two
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        people = People(client, two)
        await people.sign_in("owner")
        created = await people.on(one, "POST", "/rooms", "owner", json={"name": "Flushed"})
        assert created.status_code == 201, created.text
        slug = created.json()["slug"]
        for served in (one, other):
            assert (await people.join(served, slug)).get("connection") is not None
        with sqlite3.connect(two.database) as database:
            database.execute("UPDATE meet_room SET access_level = 'restricted' WHERE slug = ?", (slug,))
        for served in (one, other):  # the copies, their stamps still the room's
            assert (await people.join(served, slug)).get("connection") is not None
        two.redis.flushdb()  # on a cluster: every master
        for served in (one, other):
            joined = await people.join(served, slug)
            assert (joined["access_level"], joined.get("connection")) == ("restricted", None)
