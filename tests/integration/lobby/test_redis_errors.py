"""Which failures of redis-py mean "Redis is not there right now" (a 503), and which are bugs (a 500)."""

from __future__ import annotations

from typing import Any

import pytest

from meet.adapters.redis.client import is_unreachable, unavailable_as
from meet.domain.lobby.errors import LobbyUnavailable


def _raised_in(filename: str) -> AttributeError:
    """The AttributeError redis-py raises when a command writes on a connection torn down under it."""
    namespace: dict[str, Any] = {}
    exec(compile("def send(writer):\n    writer.writelines([b'PING'])\n", filename, "exec"), namespace)  # noqa: S102
    try:
        namespace["send"](None)
    except AttributeError as error:
        return error
    raise AssertionError("expected an AttributeError")


def test_a_connection_torn_down_under_a_command_is_unreachable() -> None:
    assert is_unreachable(_raised_in("/venv/lib/python3.11/site-packages/redis/asyncio/connection.py"))


def test_an_attribute_error_of_our_own_is_a_bug() -> None:
    assert not is_unreachable(_raised_in("/work/src/meet/adapters/redis/lobby.py"))
    assert not is_unreachable(ValueError("bad value"))


async def test_the_adapters_answer_503_for_a_torn_down_connection_and_let_bugs_through() -> None:
    with pytest.raises(LobbyUnavailable):
        async with unavailable_as(LobbyUnavailable):
            raise _raised_in("/venv/lib/python3.11/site-packages/redis/asyncio/connection.py")
    with pytest.raises(AttributeError):
        async with unavailable_as(LobbyUnavailable):
            raise _raised_in("/work/src/meet/adapters/redis/lobby.py")
