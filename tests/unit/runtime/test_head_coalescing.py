"""A response's head goes out with the write after it, in one call; nothing else waits, nor is reordered."""

from __future__ import annotations

import asyncio

from meet.entrypoints.server_protocol import HeadCoalescingTransport
from tests.doubles.transport import RecordingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"


def coalescing() -> tuple[HeadCoalescingTransport, RecordingTransport]:
    inner = RecordingTransport()
    return HeadCoalescingTransport(inner, asyncio.get_running_loop()), inner


async def next_turn() -> None:
    await asyncio.sleep(0)  # one turn of the event loop: what was scheduled before has run


async def test_a_head_and_its_body_are_one_write() -> None:
    transport, inner = coalescing()
    transport.write(HEAD)
    assert inner.calls == []
    transport.write(b"{}")
    assert inner.calls == [("writelines", HEAD + b"{}")]
    await next_turn()
    assert inner.calls == [("writelines", HEAD + b"{}")]  # nothing left to send


async def test_a_head_without_a_body_yet_goes_out_alone_at_the_next_turn() -> None:
    transport, inner = coalescing()
    transport.write(HEAD)
    await next_turn()
    assert inner.calls == [("write", HEAD)]
    transport.write(b"data: first event\n\n")
    assert inner.calls == [("write", HEAD), ("write", b"data: first event\n\n")]


async def test_what_is_not_a_head_is_written_at_once_and_in_order() -> None:
    transport, inner = coalescing()
    transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\nwhat?")  # a whole answer at once
    transport.write(b"5\r\nchunk\r\n")
    assert inner.calls == [
        ("write", b"HTTP/1.1 400 Bad Request\r\ncontent-length: 5\r\n\r\nwhat?"),
        ("write", b"5\r\nchunk\r\n"),
    ]


async def test_two_heads_in_a_row_keep_their_order() -> None:
    transport, inner = coalescing()
    transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    transport.write(HEAD)
    transport.write(b"{}")
    await next_turn()
    assert b"".join(data for _, data in inner.calls) == b"HTTP/1.1 100 Continue\r\n\r\n" + HEAD + b"{}"


async def test_parts_written_together_follow_a_waiting_head_in_the_same_call() -> None:
    transport, inner = coalescing()
    transport.write(HEAD)
    transport.writelines([b"{", b"}"])
    await next_turn()
    assert inner.calls == [("writelines", HEAD + b"{}")]


async def test_closing_sends_a_waiting_head_first() -> None:
    transport, inner = coalescing()
    transport.write(HEAD)
    transport.close()
    assert inner.calls == [("write", HEAD), ("close", b"")]
    await next_turn()
    assert inner.calls == [("write", HEAD), ("close", b"")]


async def test_aborting_drops_a_waiting_head() -> None:
    transport, inner = coalescing()
    transport.write(HEAD)
    transport.abort()
    await next_turn()
    assert inner.calls == [("abort", b"")]


async def test_the_connection_is_described_as_the_real_one() -> None:
    transport, inner = coalescing()
    assert transport.get_extra_info("peername") == ("127.0.0.1", 50000)
    transport.write(HEAD)
    assert transport.get_write_buffer_size() == len(HEAD)
    assert not transport.is_closing()
    inner.closing = True
    assert transport.is_closing()
