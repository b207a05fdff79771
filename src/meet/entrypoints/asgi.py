"""The ASGI entry point for servers: ``uvicorn meet.entrypoints.asgi:app``."""

from __future__ import annotations

from meet.entrypoints.http.app import create_app
from meet.entrypoints.settings import load_settings

app = create_app(load_settings())
