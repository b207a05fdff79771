"""uvicorn's HTTP/1.1 protocol (httptools), with each response's head built in one pass and written together
with its first body part.

An ASGI answer is two messages (its start, then its body), and uvicorn writes each to the socket as it
comes: two system calls and two TCP segments for every answer, and on the receiving side two wake-ups.
In a town hall's admit-all, ten thousand held polls are answered within a couple of seconds by one
process, and the two writes were a seventh of that process's CPU. Here a response's head is kept
until the next write on the connection, which sends both in one call; a head with no body following
in the same turn of the event loop (an event stream's, say) goes out alone at the next turn.

uvicorn builds a head header by header, with two regular-expression searches, a lowercasing and three
comparisons each: with a dozen headers (the security headers, the request id, the cookies), about a
tenth of the CPU of each held poll's answer in a town hall. ``JoinedHeadCycle`` checks the names and the values
once each, joined, and writes the same bytes; a head that needs uvicorn's own handling (no length, a
``Connection`` or ``Transfer-Encoding`` header, a name not in lower case, a bad character, a closing
connection) goes through uvicorn's code unchanged.

``meet serve`` runs uvicorn with this protocol (``HTTP_PROTOCOL``); the bench runs the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

HTTP_PROTOCOL = "meet.entrypoints.server_protocol:CoalescingHttpToolsProtocol"

_HEAD_END = b"\r\n\r\n"
# The bytes uvicorn lets into a header's name and value (its own expressions, byte by byte).
_NAME_BYTES = bytes(byte for byte in range(256) if not HEADER_RE.match(bytes([byte])))
_VALUE_BYTES = bytes(byte for byte in range(256) if not HEADER_VALUE_RE.match(bytes([byte])))


class HeadCoalescingTransport(asyncio.Transport):
    """A connection's transport that writes a response's head with the write after it (its body).

    Only a write that is a whole head (``HTTP/...`` up to its blank line) waits, and at most until the
    event loop's next turn: whatever else is written goes out at once, in order.
    """

    __slots__ = ("_head", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.writelines((head, data))
        elif data[:5] == b"HTTP/" and data[-4:] == _HEAD_END:
            self._head = bytes(data)
            self._loop.call_soon(self._flush)  # a no-op if the body took the head along first
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        head, self._head = self._head, None
        self._transport.writelines(list_of_data if head is None else [head, *list_of_data])

    def _flush(self) -> None:
        head, self._head = self._head, None
        if head is not None and not self._transport.is_closing():
            self._transport.write(head)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._head or b"")

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)


class JoinedHeadCycle(RequestResponseCycle):
    """uvicorn's request-response cycle, whose common heads are checked and built in one pass."""

    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] == "http.response.start" and not (
            self.response_started or self.disconnected or self.flow.write_paused or self.access_log
        ):
            head = self._joined_head(message["status"], [*self.default_headers, *message.get("headers", ())])
            if head is not None:
                self.response_started = True
                self.waiting_for_100_continue = False
                self.transport.write(head)
                return
        await super().send(message)

    def _joined_head(self, status: int, headers: list[tuple[bytes, bytes]]) -> bytes | None:
        """The head uvicorn would write, when it needs none of uvicorn's special cases; else ``None``."""
        names = b"".join([name for name, _ in headers])
        if (
            not self.keep_alive
            or status not in STATUS_LINE
            or not names.islower()
            or b"connection" in names
            or b"transfer-encoding" in names
            or names.translate(None, _NAME_BYTES)  # what is left is what uvicorn refuses
            or b"".join([value for _, value in headers]).translate(None, _VALUE_BYTES)
        ):
            return None
        lengths = [value for name, value in headers if name == b"content-length"]
        if len(lengths) != 1 or not lengths[0].isdigit():
            return None
        self.expected_content_length = int(lengths[0])
        self.chunked_encoding = False
        return STATUS_LINE[status] + b"\r\n".join([b": ".join(header) for header in headers]) + _HEAD_END


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a ``HeadCoalescingTransport``, its cycles ``JoinedHeadCycle``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(HeadCoalescingTransport(transport, self.loop))  # type: ignore[arg-type]

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        # uvicorn names its cycle's class inside this method; the cycle's task has not run yet.
        if type(self.cycle) is RequestResponseCycle:
            self.cycle.__class__ = JoinedHeadCycle
