"""One place that builds the LiveKit server API client (URL, key, secret, TLS switch, timeout)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from livekit.api import LiveKitAPI
from livekit.api.twirp_client import ServerError

from meet.domain.conference.errors import ParticipantNotInRoom, SfuRequestFailed, SfuUnavailable


@dataclass(frozen=True, slots=True)
class LiveKitServer:
    url: str
    api_key: str
    api_secret: str
    verify_tls: bool = True
    timeout_seconds: float = 5.0


class LiveKitClientFactory:
    """Creates the client lazily, inside the running loop (aiohttp needs one), and closes it."""

    def __init__(self, server: LiveKitServer) -> None:
        self._server = server
        self._api: LiveKitAPI | None = None

    def api(self) -> LiveKitAPI:
        if self._api is None:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._server.timeout_seconds),
                connector=aiohttp.TCPConnector(ssl=self._server.verify_tls),
            )
            self._api = LiveKitAPI(
                self._server.url,
                self._server.api_key,
                self._server.api_secret,
                session=session,
                failover=False,  # self-hosted: fail fast instead of hunting for other regions
            )
            self._session = session
        return self._api

    async def aclose(self) -> None:
        if self._api is not None:
            await self._session.close()
            self._api = None


@asynccontextmanager
async def sfu_errors() -> AsyncIterator[None]:
    """Translate LiveKit's answers into the domain's: not found, unreachable, or refused."""
    try:
        yield
    except ServerError as error:
        if error.code == "not_found" or error.status == 404:
            raise ParticipantNotInRoom from error
        raise SfuRequestFailed(f"The media server refused the request ({error.code}).") from error
    except (TimeoutError, aiohttp.ClientConnectionError, OSError) as error:
        raise SfuUnavailable from error
    except aiohttp.ClientError as error:
        raise SfuRequestFailed from error
