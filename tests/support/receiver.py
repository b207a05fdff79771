"""A webhook receiver on a free loopback port, in a thread: it records every request and answers the
status its ``answers`` list says (then 204), so a test can make it fail and then recover."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    arrived_at: float  # time.time()


@dataclass
class Receiver:
    url: str
    port: int
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Block until ``count`` requests arrived (or the timeout: the caller's assertion then fails)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)


@contextlib.contextmanager
def webhook_receiver(answer_body: bytes = b"") -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.arrived:
                status = receiver.answers.pop(0) if receiver.answers else 204
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.received.append(Received(self.path, headers, body, status, time.time()))
                receiver.arrived.notify_all()
            self.send_response(status)
            self.send_header("content-length", str(len(answer_body)))
            self.end_headers()
            self.wfile.write(answer_body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002 - http.server names them
            return

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # a batch of concurrent attempts must not overflow the listen backlog
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    receiver = Receiver(url=f"http://127.0.0.1:{port}/hook", port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
