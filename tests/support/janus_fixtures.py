"""The Janus the tests talk to: one real Janus per test session (see ``tests.support.janus``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from meet.adapters.janus.client import JanusAdmin, JanusServer
from meet.adapters.janus.sfu import JanusSfu
from meet.adapters.janus.tokens import JanusTokens, JanusTokenSigner
from tests.support.janus import Janus, start_janus
from tests.support.services import ServiceNotFound


@pytest.fixture(scope="session")
def janus() -> Iterator[Janus]:
    try:
        with start_janus() as server:
            yield server
    except ServiceNotFound as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def janus_tokens(janus: Janus) -> JanusTokens:
    return JanusTokens(JanusTokenSigner(janus.token_secret), timedelta(minutes=10))


@pytest.fixture
async def janus_admin(janus: Janus) -> AsyncIterator[JanusAdmin]:
    admin = JanusAdmin(
        JanusServer(admin_url=janus.admin_url, admin_secret=janus.admin_secret, admin_key=janus.admin_key)
    )
    yield admin
    await admin.aclose()


@pytest.fixture
def janus_sfu(janus_admin: JanusAdmin, janus_tokens: JanusTokens) -> JanusSfu:
    return JanusSfu(janus_admin, janus_tokens, room_secret_key=b"meet-test-secret-key-for-janus-rooms")
