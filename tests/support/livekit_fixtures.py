"""The LiveKit server the tests talk to.

Two kinds of tests use LiveKit:

- Tests that arrange participants or inspect what was sent (``add_participant``, ``calls``,
  ``fail_next``, ...) use ``livekit``: the wire-level double (``tests.support.livekit_server``),
  started once per session and reset for each test. A real server cannot be arranged that way
  (participants need a WebRTC client), so these tests always run against the double, whatever
  the environment says; nothing is skipped.
- Contract tests that only need the server API use ``livekit_target``: the double by default, or a
  real ``livekit-server --dev`` when ``MEET_TEST_LIVEKIT_URL`` is set (with
  ``MEET_TEST_LIVEKIT_API_KEY`` / ``MEET_TEST_LIVEKIT_API_SECRET``, default ``devkey`` / ``secret``,
  the ``--dev`` credentials). ``target.double`` is ``None`` against a real server, so such a test
  must assert only through the API, never through the double's helpers. Run them so with e.g.
  ``MEET_TEST_LIVEKIT_URL=ws://127.0.0.1:7880 uv run pytest tests/integration/livekit -q``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.support.livekit_server import LiveKitServer, run_livekit_server
from tests.support.services import ServiceNotFound

LIVEKIT_URL_ENV = "MEET_TEST_LIVEKIT_URL"


@dataclass(frozen=True)
class LiveKitTarget:
    """A LiveKit server API to run contract tests against: the double, or a real server."""

    url: str
    api_key: str
    api_secret: str
    double: LiveKitServer | None = None

    @property
    def is_double(self) -> bool:
        return self.double is not None


def _reachable(url: str) -> None:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme in {"wss", "https"} else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=3):
            pass
    except OSError as error:
        raise ServiceNotFound(
            f"{LIVEKIT_URL_ENV}={url} is set but nothing answers there ({error}); "
            f"start `livekit-server --dev` or unset {LIVEKIT_URL_ENV} to test against the double"
        ) from error


@pytest.fixture(scope="session")
def livekit_server() -> Iterator[LiveKitServer]:
    """The double for the whole session; prefer ``livekit``, which also empties it for each test."""
    with run_livekit_server() as server:
        yield server


@pytest.fixture
def livekit(livekit_server: LiveKitServer) -> Iterator[LiveKitServer]:
    """The double, emptied for this test; a crash inside the double fails the test instead of hiding."""
    livekit_server.reset()
    yield livekit_server
    assert livekit_server.errors() == [], "the LiveKit double itself failed while answering"


@pytest.fixture(scope="session")
def livekit_real_target() -> LiveKitTarget | None:
    url = os.environ.get(LIVEKIT_URL_ENV)
    if not url:
        return None
    _reachable(url)
    return LiveKitTarget(
        url=url,
        api_key=os.environ.get("MEET_TEST_LIVEKIT_API_KEY", "devkey"),
        api_secret=os.environ.get("MEET_TEST_LIVEKIT_API_SECRET", "secret"),
    )


@pytest.fixture
def livekit_target(livekit_real_target: LiveKitTarget | None, livekit_server: LiveKitServer) -> LiveKitTarget:
    """A real server when ``MEET_TEST_LIVEKIT_URL`` is set, otherwise the double (emptied for this test)."""
    if livekit_real_target is not None:
        return livekit_real_target
    livekit_server.reset()
    return LiveKitTarget(
        url=livekit_server.url,
        api_key=livekit_server.api_key,
        api_secret=livekit_server.api_secret,
        double=livekit_server,
    )
