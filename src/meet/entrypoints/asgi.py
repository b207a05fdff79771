"""The ASGI entry point for servers: ``uvicorn --factory meet.entrypoints.asgi:create_app``.

Nothing is built at import time: each server process builds its app (and its container) when it starts.
"""

from __future__ import annotations

from litestar import Litestar

from meet.entrypoints.http.app import build_app
from meet.entrypoints.settings import load_settings


def create_app() -> Litestar:
    return build_app(load_settings())
