"""uvicorn's HTTP/1.1 protocol (httptools), with each response's head and first body part written together.

An ASGI answer is two messages (its start, then its body), and uvicorn writes each to the socket as it
comes: two system calls and two TCP segments for every answer, and on the receiving side two wake-ups.
In a town hall's admit-all, ten thousand held polls are answered within a couple of seconds by one
process, and the two writes were a seventh of that process's CPU. Here a response's head is kept
until the next write on the connection, which sends both in one call; a head with no body following
in the same turn of the event loop (an event stream's, say) goes out alone at the next turn.

``meet serve`` runs uvicorn with this protocol (``HTTP_PROTOCOL``); the bench runs the same.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HTTP_PROTOCOL = "meet.entrypoints.server_protocol:CoalescingHttpToolsProtocol"

_HEAD_END = b"\r\n\r\n"


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


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a ``HeadCoalescingTransport``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(HeadCoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
