"""schemathesis over the served OpenAPI document: every operation, anonymous and signed in as a room
owner, valid and invalid data, every check. Any 5xx or any answer the document does not describe fails.

The service runs as ``meet serve`` does (a real process on its own SQLite file, LiveKit's wire-level
double), so the fuzzer reaches it over HTTP exactly as a client would. The seed is fixed and the
number of examples per operation bounded (about 1,000 requests), so the run is repeatable and takes
about a minute on an idle 2-core machine (its duration is in the failure message, not asserted).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition, Unsatisfiable
from schemathesis import GenerationMode

from meet.entrypoints.http.app import SESSION_COOKIE
from tests.support.livekit_server import LiveKitServer
from tests.support.served import Served, serve

EXAMPLES = {GenerationMode.POSITIVE: 12, GenerationMode.NEGATIVE: 8}
SEED = 20261201
# Run last: signing in (again) rotates the caller's session and signing out ends it.
LAST = ("/api/v1/auth/dev-login", "/api/v1/auth/logout")


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


@pytest.fixture
def served(tmp_path: Path, livekit: LiveKitServer) -> Iterator[Served]:
    with serve(
        tmp_path, timeout=90, log=tmp_path / "server.log", data_dir=str(tmp_path / "data"), livekit_url=livekit.url
    ) as running:
        yield running


def owner_cookie(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/v1/auth/dev-login", json={"sub": "fuzz-owner", "full_name": "Owner"})
    response.raise_for_status()
    return response.cookies[SESSION_COOKIE]


def exercise(operation: Any, mode: GenerationMode, base_url: str, cookie: str | None, findings: Findings) -> None:
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {}

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: Any) -> None:
        findings.requests += 1
        try:
            response = case.call(base_url=base_url, headers=headers, timeout=10)
        except Exception as error:  # a hang or a dropped connection is a finding too
            findings.problems.append(f"{operation.label} [{mode}]: no answer ({error!r})")
            return
        findings.statuses[response.status_code] = findings.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, headers=headers)
        except (Exception, BaseExceptionGroup) as error:
            findings.problems.append(f"{operation.label} [{mode}] -> {response.status_code}: {error}")

    try:
        run()
    except Unsatisfiable:
        pass  # nothing invalid can be sent to this operation in this mode (e.g. no parameter to break)
    except (Exception, BaseExceptionGroup) as error:  # schemathesis reports some checks from outside the test body
        causes = error.exceptions if isinstance(error, BaseExceptionGroup) else ()
        if not from_the_generator(error):
            shown = [f"{type(cause).__name__} at {raised_at(cause)}: {cause}" for cause in causes]
            findings.problems.append(f"{operation.label} [{mode}]: {error} {shown}")


def from_the_generator(error: BaseException) -> bool:
    """Whether Hypothesis's own engine failed, not a check of an answer: on a loaded CPU it was seen to draw
    differently when replaying a case, or to break an invariant of its own data (and then to call the
    case "unreliable", as its replay did not fail). The service's answers are checked inside ``run`` as
    they come, so nothing about them is lost."""
    if isinstance(error, FlakyStrategyDefinition):
        return True
    if isinstance(error, BaseExceptionGroup):
        return all(from_the_generator(cause) for cause in error.exceptions)
    return f"{os.sep}hypothesis{os.sep}internal{os.sep}" in raised_at(error)


def raised_at(error: BaseException) -> str:
    """Where ``error`` was raised: the innermost frame's file and line."""
    frame, last = error.__traceback__, None
    while frame is not None:
        last, frame = frame, frame.tb_next
    return f"{last.tb_frame.f_code.co_filename}:{last.tb_lineno}" if last is not None else "?"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(served: Served) -> None:
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{served.base_url}/api/v1/docs/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    operations.sort(key=lambda operation: operation.path in LAST)
    assert len(operations) >= 30
    findings = Findings()
    for who in ("anonymous", "owner"):
        for operation in operations:
            cookie = owner_cookie(served.base_url) if who == "owner" else None
            for mode in EXAMPLES:
                exercise(operation, mode, served.base_url, cookie, findings)
    elapsed = time.monotonic() - started
    summary = f"{findings.requests} requests in {elapsed:.0f} s, statuses {sorted(findings.statuses.items())}"
    assert not findings.problems, "\n".join([summary, *dict.fromkeys(findings.problems)])
    assert not any(status >= 500 for status in findings.statuses), summary
    assert findings.requests >= 500, summary
