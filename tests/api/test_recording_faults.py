"""A recording start the egress refuses, answers strangely or never answers leaves the room recordable
and deletable: the recording ends ``failed_to_start`` and the answer is a 502/503, never a 500."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.support.livekit_server import LiveKitServer

TIMEOUT = 1.0
START = "StartRoomCompositeEgress"


@pytest.fixture
async def studio(api_with: Any, livekit: LiveKitServer) -> AsyncIterator[tuple[Api, dict[str, Any]]]:
    async with api_with(livekit_url=livekit.url, livekit_timeout_seconds=str(TIMEOUT)) as api:
        await api.sign_in("owner")
        room = await api.create_room("owner", "Board")
        livekit.add_participant(room["id"], "owner")
        yield api, room


async def start(api: Api, room: dict[str, Any]) -> Any:
    return await api.request(
        "POST", f"/api/v1/rooms/{room['id']}/recordings", user="owner", json={"mode": "transcript"}
    )


async def statuses(api: Api) -> list[str]:
    page = (await api.request("GET", "/api/v1/recordings", user="owner")).json()
    return sorted(recording["status"] for recording in page["results"])


def inject(livekit: LiveKitServer, fault: str) -> None:
    if fault == "refuses":
        livekit.fail_next(START, code="failed_precondition", message="egress not connected")
    elif fault == "answers without an egress id":
        livekit.answer_empty_next(START)
    elif fault == "fails":
        livekit.fail_next(START, code="internal")
    else:
        livekit.stall_next(START)


async def assert_recordable_and_deletable(api: Api, room: dict[str, Any], livekit: LiveKitServer, fault: str) -> None:
    """The room records again; and a room whose only recording failed to start is deleted."""
    retry = await start(api, room)
    assert retry.status_code == 201, retry.text
    assert (await api.request("POST", f"/api/v1/rooms/{room['id']}/recordings/stop", user="owner")).status_code == 200
    other = await api.create_room("owner", f"Other {room['slug']}")
    livekit.add_participant(other["id"], "owner")
    inject(livekit, fault)
    assert (await start(api, other)).status_code in {502, 503}
    livekit.release_stalled()
    deleted = await api.request("DELETE", f"/api/v1/rooms/{other['id']}", user="owner")
    assert deleted.status_code == 204, deleted.text


@pytest.mark.parametrize(
    ("fault", "status"),
    [("refuses", 502), ("answers without an egress id", 502), ("fails", 502)],
)
async def test_a_failed_start_leaves_the_room_recordable(
    studio: tuple[Api, dict[str, Any]], livekit: LiveKitServer, fault: str, status: int
) -> None:
    api, room = studio
    inject(livekit, fault)
    response = await start(api, room)
    assert response.status_code == status, response.text
    if status == 503:
        assert response.headers["retry-after"]
    assert await statuses(api) == ["failed_to_start"]
    await assert_recordable_and_deletable(api, room, livekit, fault)


async def test_an_egress_that_never_answers_times_out_into_a_failed_start(
    studio: tuple[Api, dict[str, Any]], livekit: LiveKitServer
) -> None:
    api, room = studio
    livekit.stall_next(START)
    began = time.monotonic()
    response = await asyncio.wait_for(start(api, room), timeout=TIMEOUT * 10)
    waited = time.monotonic() - began
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert waited < TIMEOUT * 5
    assert await statuses(api) == ["failed_to_start"]
    livekit.release_stalled()
    await assert_recordable_and_deletable(api, room, livekit, "stalls")
