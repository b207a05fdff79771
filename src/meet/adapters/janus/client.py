"""meet's server calls to Janus, over its Admin/Monitor API (HTTP), and what their failures mean.

Every VideoRoom request meet makes (create, destroy, listparticipants, kick, moderate, allowed) goes
through the Admin API's ``message_plugin``, which needs no Janus session of meet's own; handle lookups
(``list_sessions``, ``list_handles``, ``handle_info``) go the same way. The Admin API is guarded by its
``admin_secret`` and must never be reachable by browsers (bind it to a private address).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable
from meet.domain.shared.observability import IGNORED, CallObserver

logger = logging.getLogger("meet.janus")

VIDEOROOM = "janus.plugin.videoroom"
# VideoRoom error codes that mean "not there" (janus_videoroom.c): no such room, no such feed.
_ABSENT = {426, 428}
# Janus core: no such session / handle (it went away between listing and asking).
_GONE = {458, 459}


@dataclass(frozen=True, slots=True)
class JanusServer:
    """How meet reaches Janus: the Admin API for its own calls, and the secrets it holds."""

    admin_url: str
    admin_secret: str = field(repr=False)
    admin_key: str = field(repr=False)
    timeout_seconds: float = 5.0
    verify_tls: bool = True


class JanusRefused(SfuRequestFailed):
    """Janus answered with an error; ``janus_code`` is its numeric code."""

    def __init__(self, janus_code: int, message: str | None = None) -> None:
        super().__init__(message)
        self.janus_code = janus_code


class JanusAdmin:
    """One HTTP client (created lazily in the running loop) for the Admin API."""

    def __init__(self, server: JanusServer, observer: CallObserver = IGNORED) -> None:
        self._server = server
        self._observer = observer
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def server(self) -> JanusServer:
        return self._server

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=self._server.timeout_seconds, verify=self._server.verify_tls, trust_env=False
            )
            self._loop = loop
        return self._client

    async def call(self, janus: str, *, path: str = "", operation: str = "", **body: Any) -> dict[str, Any]:
        """One Admin API request; Janus-level errors become ``JanusRefused``, transport errors ``SfuUnavailable``.

        Every request is reported to the observer with its outcome and duration.
        """
        started = time.perf_counter()
        outcome = "error"
        try:
            answer = await self._call(janus, path=path, operation=operation, **body)
            outcome = "ok"
        except SfuUnavailable:
            outcome = "unavailable"
            raise
        except SfuRequestFailed:
            outcome = "refused"
            raise
        finally:
            self._observer.call_ended("janus", operation or janus, outcome, time.perf_counter() - started)
        return answer

    async def _call(self, janus: str, *, path: str, operation: str, **body: Any) -> dict[str, Any]:
        request = {"janus": janus, "transaction": secrets.token_hex(8), "admin_secret": self._server.admin_secret}
        request.update(body)
        try:
            response = await self._http().post(self._server.admin_url.rstrip("/") + path, json=request)
            answer = response.json()
        except (httpx.TransportError, OSError) as error:
            logger.warning("Janus %s unreachable: %s", operation or janus, type(error).__name__)
            raise SfuUnavailable from error
        except ValueError as error:
            logger.warning("Janus %s answered unreadably (HTTP %s)", operation or janus, response.status_code)
            raise SfuRequestFailed from error
        if not isinstance(answer, dict):
            raise SfuRequestFailed("The media server answered unreadably.")
        if answer.get("janus") == "error":
            code = int(answer.get("error", {}).get("code", 0))
            logger.warning("Janus %s refused: code=%s", operation or janus, code)
            raise JanusRefused(code, "The media server refused the request.")
        return answer

    async def videoroom(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request; its ``error_code`` answers become domain errors."""
        answer = await self.call(
            "message_plugin", plugin=VIDEOROOM, request=dict(request), operation=request["request"]
        )
        data = answer.get("response")
        if not isinstance(data, dict):
            raise SfuRequestFailed("The media server answered unreadably.")
        if "error_code" in data:
            code = int(data["error_code"])
            if code in _ABSENT:
                raise ParticipantNotInRoom
            logger.warning("Janus VideoRoom %s refused: error_code=%s", request["request"], code)
            raise JanusRefused(code, f"The media server refused the request (VideoRoom error {code}).")
        return data

    async def handles(self) -> list[tuple[int, int]]:
        """Every (session, handle) Janus has now."""
        sessions = (await self.call("list_sessions")).get("sessions", [])
        found: list[tuple[int, int]] = []
        for session in sessions:
            try:
                handles = (await self.call("list_handles", path=f"/{session}")).get("handles", [])
            except JanusRefused as error:
                if error.janus_code in _GONE:
                    continue
                raise
            found.extend((int(session), int(handle)) for handle in handles)
        return found

    async def handle_info(self, session: int, handle: int) -> dict[str, Any] | None:
        """What Janus knows about one handle (``None`` when it is gone)."""
        try:
            answer = await self.call("handle_info", path=f"/{session}/{handle}")
        except JanusRefused as error:
            if error.janus_code in _GONE:
                return None
            raise
        info = answer.get("info")
        return info if isinstance(info, dict) else None

    async def aclose(self) -> None:
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.aclose()


class JanusHealth:
    """Readiness: Janus's Admin API answers (and accepts meet's admin secret)."""

    name = "janus"

    def __init__(self, admin: JanusAdmin) -> None:
        self._admin = admin

    async def ping(self) -> None:
        await self._admin.call("ping")
