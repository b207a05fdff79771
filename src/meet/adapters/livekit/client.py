"""One place that builds the LiveKit server API client, and one that translates its failures."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from google.protobuf.message import DecodeError
from livekit.api import LiveKitAPI
from livekit.api.twirp_client import ServerError, ServerErrorCode

from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable
from meet.domain.shared.observability import IGNORED, CallObserver

logger = logging.getLogger("meet.livekit")


@dataclass(frozen=True, slots=True)
class LiveKitServer:
    """How to reach the LiveKit server API; ``url`` may be the ws(s):// one clients use."""

    url: str
    api_key: str
    api_secret: str = field(repr=False)
    verify_tls: bool = True
    timeout_seconds: float = 5.0


def http_url(url: str) -> str:
    """The server API is plain HTTP on the same host as the signalling WebSocket."""
    parts = urlsplit(url)
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    if scheme not in {"http", "https"}:
        raise ValueError(f"LiveKit URL must be ws://, wss://, http:// or https://, not {parts.scheme!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class LiveKitClientFactory:
    """Creates the client lazily inside the running loop (aiohttp binds its session to one) and closes it.

    Constructing the factory needs no loop, so a DI container can build it at import or start-up time.
    """

    def __init__(self, server: LiveKitServer, observer: CallObserver = IGNORED) -> None:
        self._server = server
        self._observer = observer
        self._url = http_url(server.url)
        self._api: LiveKitAPI | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def server(self) -> LiveKitServer:
        return self._server

    def api(self) -> LiveKitAPI:
        loop = asyncio.get_running_loop()
        if self._api is None or self._loop is not loop:
            # A session from another (finished) loop cannot be used here; it dies with that loop.
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._server.timeout_seconds),
                connector=aiohttp.TCPConnector(ssl=self._server.verify_tls),
            )
            self._api = LiveKitAPI(
                self._url,
                self._server.api_key,
                self._server.api_secret,
                session=session,
                # Failover hunts for LiveKit Cloud regions; a self-hosted server has none, so fail fast.
                failover=False,
            )
            self._session, self._loop = session, loop
        return self._api

    @asynccontextmanager
    async def guard(self, operation: str, *, not_found_means_absent: bool = True) -> AsyncIterator[None]:
        """Bound one call by the configured timeout and translate its failures (see ``sfu_errors``).

        livekit-api passes ``timeout=None`` on every request, which makes aiohttp ignore the session's
        timeout altogether; without this bound a stalled server would hold a request forever. Every
        call is reported to the observer with its outcome and duration.
        """
        started = time.perf_counter()
        outcome = "error"
        try:
            async with sfu_errors(operation, not_found_means_absent=not_found_means_absent):
                async with asyncio.timeout(self._server.timeout_seconds):
                    yield
            outcome = "ok"
        except ParticipantNotInRoom:
            outcome = "not_found"
            raise
        except SfuUnavailable:
            outcome = "unavailable"
            raise
        except SfuRequestFailed:
            outcome = "refused"
            raise
        finally:
            self._observer.call_ended("livekit", operation, outcome, time.perf_counter() - started)

    async def aclose(self) -> None:
        session, self._api, self._session, self._loop = self._session, None, None, None
        if session is not None and not session.closed:
            await session.close()


@asynccontextmanager
async def sfu_errors(operation: str, *, not_found_means_absent: bool = True) -> AsyncIterator[None]:
    """Translate LiveKit's answers into the domain's: not in the room, unreachable, or refused.

    ``not_found_means_absent`` is off for calls where a Twirp ``not_found`` is not about a
    participant or room (an unknown egress id), so it surfaces as a refused request instead.
    """
    try:
        yield
    except ServerError as error:
        if error.code == ServerErrorCode.NOT_FOUND and not_found_means_absent:
            raise ParticipantNotInRoom from error
        # Only the Twirp code and HTTP status: the message may echo request data.
        logger.warning("LiveKit %s refused: code=%s status=%s", operation, error.code, error.status)
        if error.code in {ServerErrorCode.UNAUTHENTICATED, ServerErrorCode.PERMISSION_DENIED}:
            raise SfuRequestFailed("The media server rejected our credentials.") from error
        raise SfuRequestFailed(f"The media server refused the request ({error.code}).") from error
    except (TimeoutError, aiohttp.ClientConnectionError, OSError) as error:
        logger.warning("LiveKit %s unreachable: %s", operation, type(error).__name__)
        raise SfuUnavailable from error
    except (aiohttp.ClientError, DecodeError) as error:
        logger.warning("LiveKit %s answered unreadably: %s", operation, type(error).__name__)
        raise SfuRequestFailed from error
