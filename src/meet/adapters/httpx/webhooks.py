"""Webhook attempts over HTTP: resolve the host, then POST to the very address that was checked.

The request goes to the checked IP address with the URL's host in ``Host`` and in TLS's SNI (and the
certificate checked against that name): a DNS answer that changes between the check and the connection
(DNS rebinding) cannot send it anywhere else. No redirect is followed, no proxy from the environment
is used, each attempt has one deadline, and at most ``MAX_ANSWER_BYTES`` of the answer are read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

import httpx

from meet.domain.webhooks.model import EndpointRefused, IpAddress
from meet.domain.webhooks.ports import SendOutcome

MAX_ANSWER_BYTES = 4096


class SystemHostResolver:
    """The system resolver (``getaddrinfo``), off the event loop's thread."""

    async def resolve(self, host: str, port: int) -> Sequence[IpAddress]:
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            pass
        else:
            return [literal]
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            raise EndpointRefused(f"The endpoint's host {host!r} cannot be resolved.", field="url") from error
        addresses: list[IpAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        return addresses


def client(timeout_seconds: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )


class HttpxWebhookSender:
    def __init__(self, http: httpx.AsyncClient, timeout_seconds: float) -> None:
        self._http = http
        self._timeout = timeout_seconds

    async def send(self, url: str, address: IpAddress, headers: Mapping[str, str], body: bytes) -> SendOutcome:
        parts = urlsplit(url)
        host = parts.hostname or ""
        pinned_host = f"[{address}]" if address.version == 6 else str(address)
        netloc = f"{pinned_host}:{parts.port}" if parts.port else pinned_host
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        host_header = f"{host}:{parts.port}" if parts.port else host
        try:
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request(
                    "POST",
                    pinned,
                    content=body,
                    headers={**headers, "host": host_header, "user-agent": "meet-webhooks/1"},
                    extensions={"sni_hostname": host},
                )
                response = await self._http.send(request, stream=True)
                try:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= MAX_ANSWER_BYTES:
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return SendOutcome(ok=False, detail=f"no answer within {self._timeout:g} s")
        except httpx.HTTPError as error:
            return SendOutcome(ok=False, detail=f"{type(error).__name__}: could not reach the endpoint")
        if 200 <= response.status_code < 300:
            return SendOutcome(ok=True, detail=str(response.status_code))
        return SendOutcome(ok=False, detail=f"answered {response.status_code}")
