"""Logging: plain text for people, or one JSON object per line for machines, each with its request id.

``MEET_LOG_FORMAT=json`` (the production default) prints ``{"timestamp", "level", "logger", "message"}``
(plus ``request_id`` for everything logged while a request is served, and ``exception`` with the
traceback). uvicorn's loggers and Python warnings go through the same handler.
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from meet.entrypoints.settings import Settings

request_id: ContextVar[str | None] = ContextVar("meet_request_id", default=None)

# An incoming X-Request-ID is kept when it is short and made of URL-safe characters only: anything else
# (a header of kilobytes, control characters, quotes for log injection) is replaced by a fresh id.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def accepted_request_id(incoming: str | None) -> str:
    """The incoming id when well-formed, else a new one."""
    if incoming is not None and _WELL_FORMED.fullmatch(incoming):
        return incoming
    return os.urandom(16).hex()


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served (None outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        identifier = getattr(record, "request_id", None)
        if identifier:
            line["request_id"] = identifier
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        identifier = getattr(record, "request_id", None)
        return f"{text} [request {identifier}]" if identifier else text


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard error, with Python's warnings routed to logging too.

    uvicorn applies ``logging_config`` in each worker process before it imports the app, so creating the
    handler is the one moment every process passes through before an import can warn.
    """

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        logging.captureWarnings(True)


def logging_config(settings: Settings) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` configuration, also handed to uvicorn for its workers."""
    formatter = "json" if settings.log_json else "text"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}, "text": {"()": TextFormatter}},
        "handlers": {
            "default": {
                "()": Handler,
                "formatter": formatter,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["default"], "level": settings.log_level},
        # uvicorn's loggers propagate to the root handler instead of printing their own format.
        "loggers": {
            name: {"handlers": [], "level": settings.log_level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))
