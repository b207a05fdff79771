"""The production app plus two reference endpoints, for the benchmark only (never in production routes).

- ``GET /bench/constant``: returns a constant: the server's and framework's floor.
- ``GET /bench/token``: signs one LiveKit token with the production issuer, no I/O: the floor of any join.

Served with ``uvicorn bench.app:create --factory``, configured by the same ``MEET_*`` variables.
"""

from __future__ import annotations

import uuid

from dishka.integrations.litestar import FromDishka, inject
from litestar import Litestar, get

from meet.domain.conference.join import Admission
from meet.domain.rooms.model import Room
from meet.domain.users.model import Viewer
from meet.entrypoints.http.app import build_app
from meet.entrypoints.settings import load_settings

REFERENCE_ROOM = Room.temporary("bench-reference")


@get("/bench/constant", sync_to_thread=False)
def constant() -> dict[str, str]:
    return {"status": "ok"}


@get("/bench/token")
@inject
async def token(admission: FromDishka[Admission]) -> dict[str, str]:
    connection = await admission.connect(
        REFERENCE_ROOM, Viewer.anonymous(), None, requested_name="bench", anonymous_identity=str(uuid.uuid4())
    )
    return {"url": connection.url, "room": connection.room, "token": connection.token}


def create() -> Litestar:
    app = build_app(load_settings())
    app.register(constant)
    app.register(token)
    return app
