from collections.abc import Iterator

import pytest

from meet.adapters.collector import COLLECTOR

pytest_plugins = ["tests.support.fixtures", "tests.support.livekit_fixtures", "tests.support.janus_fixtures"]


@pytest.fixture(autouse=True)
def collector_running_after_each_test() -> Iterator[None]:
    """A test's event loop closes with it: a collector pause it began (a decision answered through the
    fan-out) would outlive it, and the tests after it would run without the cyclic collector."""
    yield
    COLLECTOR.end()
