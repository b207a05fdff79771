"""The LiveKit server the tests talk to: the wire-level double, started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.livekit_server import LiveKitServer, run_livekit_server


@pytest.fixture(scope="session")
def livekit_server() -> Iterator[LiveKitServer]:
    with run_livekit_server() as server:
        yield server


@pytest.fixture
def livekit(livekit_server: LiveKitServer) -> LiveKitServer:
    """The double, emptied for this test."""
    livekit_server.reset()
    return livekit_server
