"""PostgreSQL going away: clear 503s meanwhile, and service again once it is back, with no restart."""

from __future__ import annotations

from typing import Any

from tests.support.services import LocalPostgres


async def test_a_database_outage_is_a_503_and_the_api_recovers_by_itself(
    api_with: Any, disposable_postgres: LocalPostgres
) -> None:
    async with api_with(database_url=disposable_postgres.url()) as api:
        await api.sign_in("owner")
        room, unseen = await api.create_room("owner", "Board"), await api.create_room("owner", "Unseen")
        # Both ways to the database hold a live connection when the server goes: the transactional
        # pool (the listing) and the read-only path's own pool (the join of a room this process has not
        # read yet; a room it holds a copy of is joined without the database).
        assert (await api.request("GET", f"/api/v1/rooms/{room['id']}")).status_code == 200
        assert (await api.request("GET", "/api/v1/rooms", user="owner")).status_code == 200
        disposable_postgres.stop()
        try:
            held = await api.request("GET", f"/api/v1/rooms/{room['id']}")
            answers = [
                await api.request("GET", f"/api/v1/rooms/{unseen['id']}"),
                await api.request("POST", "/api/v1/rooms", user="owner", json={"name": "During the outage"}),
                await api.request("GET", "/api/v1/rooms", user="owner"),
            ]
            readiness = await api.request("GET", "/readyz")
        finally:
            disposable_postgres.start()
        assert held.status_code == 200, held.text  # the process's copy, its stamp checked in memory
        assert held.json()["livekit"]["token"]
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"] == "database_unavailable"
            assert answer.headers["retry-after"]
        assert readiness.status_code == 503
        assert readiness.headers["retry-after"]
        assert readiness.json()["checks"]["database"].startswith("unavailable")

        # Pooled connections died with the server: at most one more request pays for discovering it.
        statuses = [(await api.request("GET", f"/api/v1/rooms/{unseen['id']}")).status_code for _ in range(3)]
        assert statuses[-1] == 200
        assert statuses.count(503) <= 1
        rooms = (await api.request("GET", "/api/v1/rooms", user="owner")).json()
        # Nothing half-written during the outage.
        assert sorted(r["name"] for r in rooms["results"]) == ["Board", "Unseen"]
