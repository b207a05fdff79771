"""The cheapest possible stand-in for a LiveKit server, in a process of its own.

LiveKit cannot run on this machine, and in production it runs on another one: the benchmark must
measure what the API spends on a call to it, not what a Python double spends answering. Every Twirp
call (``POST /twirp/livekit.<Service>/<Method>``) gets an empty protobuf message: for
``ListParticipants`` that is "nobody in the room", so a knock's admin notification ends after one
round trip, as it does for a room whose admins have not joined yet.

Served with ``uvicorn bench.livekit_stub:app``.
"""

from __future__ import annotations

from typing import Any

_HEADERS = [(b"content-type", b"application/protobuf"), (b"content-length", b"0")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": b""})
