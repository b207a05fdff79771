"""A response's head built in one pass is, byte for byte and state for state, the head uvicorn builds;
what uvicorn refuses, it still refuses."""

from __future__ import annotations

import asyncio
import logging

import pytest
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from meet.entrypoints.server_protocol import JoinedHeadCycle
from tests.doubles.transport import RecordingTransport

Headers = list[tuple[bytes, bytes]]

DATE = [(b"date", b"Mon, 07 Dec 2026 19:00:34 GMT")]
HELD_POLL_ANSWER: Headers = [
    (b"cache-control", b"no-store"),
    (b"content-type", b"application/json"),
    (b"content-length", b"912"),
    (b"set-cookie", b"meet_lobby_r=abc.def; HttpOnly; Max-Age=86400; Path=/api; SameSite=lax; Secure"),
    (b"set-cookie", b"meet_poll_er=accepted.1796670035377; HttpOnly; Max-Age=60; Path=/api/v1.0/rooms"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-request-id", b"f19d550f237a2b719f854f29728491d9"),
]

HEADS: dict[str, tuple[int, Headers, str, bool]] = {  # status, headers, method, keep-alive
    "a held poll's answer": (200, HELD_POLL_ANSWER, "POST", True),
    "an empty answer": (204, [(b"content-length", b"0")], "GET", True),
    "a HEAD request": (200, [(b"content-type", b"text/html"), (b"content-length", b"5")], "HEAD", True),
    "an unusual status": (299, [(b"content-length", b"2")], "GET", True),
    "no length (chunked)": (200, [(b"content-type", b"text/event-stream")], "GET", True),
    "no header at all": (200, [], "GET", True),
    "two lengths": (200, [(b"content-length", b"2"), (b"content-length", b"3")], "GET", True),
    "a length with spaces": (200, [(b"content-length", b" 2")], "GET", True),
    "a name in capitals": (200, [(b"Content-Type", b"text/plain"), (b"Content-Length", b"2")], "GET", True),
    "connection: close": (200, [(b"connection", b"close"), (b"content-length", b"2")], "GET", True),
    "a named transfer encoding": (200, [(b"transfer-encoding", b"chunked")], "GET", True),
    "a name containing 'connection'": (200, [(b"x-connection-id", b"7"), (b"content-length", b"2")], "GET", True),
    "a closing connection": (200, [(b"content-length", b"2")], "GET", False),
    "a 500": (500, [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"21")], "GET", True),
}

REFUSED: dict[str, Headers] = {
    "a space in a name": [(b"bad name", b"x"), (b"content-length", b"2")],
    "a colon in a name": [(b"bad:name", b"x"), (b"content-length", b"2")],
    "a line break in a value": [(b"x-injected", b"a\r\nset-cookie: stolen=1"), (b"content-length", b"2")],
    "a NUL in a value": [(b"x-nul", b"a\x00b"), (b"content-length", b"2")],
}


def cycle(kind: type[RequestResponseCycle], method: str, *, keep_alive: bool = True) -> RequestResponseCycle:
    transport = RecordingTransport()
    scope = {"type": "http", "method": method, "path": "/", "headers": []}
    return kind(
        scope=scope,  # type: ignore[arg-type]
        transport=transport,
        flow=FlowControl(transport),
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=list(DATE),
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: None,
    )


def written(answer: RequestResponseCycle) -> bytes:
    transport = answer.transport
    assert isinstance(transport, RecordingTransport)
    return b"".join(data for _, data in transport.calls)


def state(answer: RequestResponseCycle) -> tuple[object, ...]:
    return (
        written(answer),
        answer.response_started,
        answer.chunked_encoding,
        answer.expected_content_length,
        answer.keep_alive,
        answer.waiting_for_100_continue,
    )


@pytest.mark.parametrize("name", list(HEADS))
async def test_the_head_and_the_cycles_state_are_uvicorns(name: str) -> None:
    status, headers, method, keep_alive = HEADS[name]
    start = {"type": "http.response.start", "status": status, "headers": headers}
    theirs = cycle(RequestResponseCycle, method, keep_alive=keep_alive)
    ours = cycle(JoinedHeadCycle, method, keep_alive=keep_alive)
    await theirs.send(start)  # type: ignore[arg-type]
    await ours.send(start)  # type: ignore[arg-type]
    assert state(ours) == state(theirs)
    assert written(ours).startswith(b"HTTP/1.1 ")


async def test_a_whole_answer_is_uvicorns_and_completes() -> None:
    start = {"type": "http.response.start", "status": 200, "headers": HELD_POLL_ANSWER}
    body = {"type": "http.response.body", "body": b"x" * 912, "more_body": False}
    theirs, ours = cycle(RequestResponseCycle, "POST"), cycle(JoinedHeadCycle, "POST")
    for answer in (theirs, ours):
        await answer.send(start)  # type: ignore[arg-type]
        await answer.send(body)  # type: ignore[arg-type]
    assert state(ours) == state(theirs)
    assert ours.response_complete
    assert theirs.response_complete


@pytest.mark.parametrize("name", list(REFUSED))
async def test_a_head_uvicorn_refuses_is_refused_and_nothing_is_written(name: str) -> None:
    start = {"type": "http.response.start", "status": 200, "headers": REFUSED[name]}
    ours = cycle(JoinedHeadCycle, "GET")
    with pytest.raises(RuntimeError, match="Invalid HTTP header"):
        await ours.send(start)  # type: ignore[arg-type]
    assert written(ours) == b""


def test_a_held_polls_answer_is_built_in_one_pass_not_by_uvicorns_loop() -> None:
    # Were every head handed to uvicorn's loop, the answers would be right and the town hall slower: the
    # one pass must take the answers meet sends most.
    ours = cycle(JoinedHeadCycle, "POST")
    assert isinstance(ours, JoinedHeadCycle)
    assert ours._joined_head(200, [*DATE, *HELD_POLL_ANSWER]) is not None
