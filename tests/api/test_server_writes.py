"""How answers leave the server: uvicorn with meet's protocol (``server_protocol``), as ``meet serve`` runs it.

An answer's head and body reach the client as one TCP segment (counted by the client's kernel:
``tcpi_data_segs_in``), an event stream's head reaches it before any event, and an answer whose
connection closes after it arrives whole.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from meet.entrypoints.server_protocol import HTTP_PROTOCOL, JoinedHeadCycle
from tests.support.served import serve

READ_BOUND = 10  # seconds: a bound on a read that should succeed, not a measure of anything
_DATA_SEGMENTS_IN = 152  # offset of tcpi_data_segs_in in Linux's struct tcp_info


def data_segments_in(writer: asyncio.StreamWriter) -> int:
    """How many segments carrying data this connection received so far (Linux's TCP_INFO)."""
    sock = writer.get_extra_info("socket")
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, _DATA_SEGMENTS_IN)[0])


async def read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_BOUND)
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    return head, await asyncio.wait_for(reader.readexactly(length), READ_BOUND)


class StreamGate:
    """An app whose ``/answer`` answers at once and whose ``/stream`` sends its head, then its one event
    only once the test opens the gate."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.senders: list[type] = []  # the class of what sent each answer (the server's cycle)

    async def __call__(self, scope: Scope, _receive: Receive, send: Send) -> None:
        self.senders.append(type(getattr(send, "__self__", None)))
        if scope["path"] == "/answer":
            await send(start([(b"content-length", b"2")]))
            await send(body(b"{}"))
            return
        await send(start([(b"content-type", b"text/event-stream")]))  # no length: a stream, chunked
        await self.open.wait()
        await send(body(b"data: opened\n\n"))


def start(headers: list[tuple[bytes, bytes]]) -> HTTPResponseStartEvent:
    return {"type": "http.response.start", "status": 200, "headers": headers}


def body(content: bytes) -> HTTPResponseBodyEvent:
    return {"type": "http.response.body", "body": content, "more_body": False}


@pytest.fixture
async def gate_server() -> AsyncIterator[tuple[StreamGate, int]]:
    app = StreamGate()
    listening = socket.create_server(("127.0.0.1", 0))  # connections wait in its backlog until served
    server = uvicorn.Server(uvicorn.Config(app, http=HTTP_PROTOCOL, lifespan="off", log_level="warning"))
    running = asyncio.create_task(server.serve(sockets=[listening]))
    yield app, listening.getsockname()[1]
    app.open.set()
    server.should_exit = True
    await running


async def test_each_answer_reaches_the_client_as_one_segment(gate_server: tuple[StreamGate, int]) -> None:
    _, port = gate_server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(3):  # one keep-alive connection, answer after answer
            before = data_segments_in(writer)
            writer.write(b"GET /answer HTTP/1.1\r\nHost: test\r\n\r\n")
            head, body = await read_answer(reader)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert body == b"{}"
            assert data_segments_in(writer) - before == 1
    finally:
        writer.close()


async def test_answers_are_sent_by_the_cycle_that_builds_heads_in_one_pass(gate_server: tuple[StreamGate, int]) -> None:
    app, port = gate_server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(2):  # the first answer of a connection and the next one on it
            writer.write(b"GET /answer HTTP/1.1\r\nHost: test\r\n\r\n")
            await read_answer(reader)
    finally:
        writer.close()
    assert app.senders == [JoinedHeadCycle, JoinedHeadCycle]


async def test_an_event_streams_head_arrives_before_its_first_event(gate_server: tuple[StreamGate, int]) -> None:
    app, port = gate_server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET /stream HTTP/1.1\r\nHost: test\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_BOUND)  # the gate is still shut
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"transfer-encoding: chunked" in head
        app.open.set()
        rest = await asyncio.wait_for(reader.readuntil(b"0\r\n\r\n"), READ_BOUND)
        assert b"data: opened\n\n" in rest
    finally:
        writer.close()


async def test_meet_serve_answers_in_one_segment_unnamed_and_whole_before_closing(tmp_path: Path) -> None:
    with serve(tmp_path) as served:
        port = int(served.base_url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            before = data_segments_in(writer)
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            head, body = await read_answer(reader)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"ok" in body.lower()
            assert data_segments_in(writer) - before == 1
            # No "server: uvicorn": what runs here is not announced on every answer.
            assert b"\r\nserver:" not in head.lower()
            writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            rest = await asyncio.wait_for(reader.read(), READ_BOUND)  # until the server closes the connection
            assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
            assert rest.endswith(body)
        finally:
            writer.close()
