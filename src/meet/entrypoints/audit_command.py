"""``meet audit verify [--room ID]`` and ``meet audit trim``: the audit chains, checked and kept in bounds."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable

from meet.domain.audit.use_cases import TrimAudit, VerifyAudit, VerifyAuditRequest
from meet.domain.shared.errors import DomainError
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings


def _error(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def verify_audit(
    settings: Settings,
    room_id: uuid.UUID | None,
    *,
    output: Callable[[str], None] = print,
    error: Callable[[str], None] = _error,
) -> int:
    """0 when every chain holds; 1 naming the first broken link; 2 when the room has no log."""
    container = make_container(settings)
    try:
        verify = await container.get(VerifyAudit)
        try:
            verdict = await verify.execute(VerifyAuditRequest(room_id=room_id))
        except DomainError as refused:
            error(f"meet audit verify: {refused.message}")
            return 2
    finally:
        await container.close()
    if verdict.broken is not None:
        error(f"audit chain broken: {verdict.broken}")
        return 1
    output(f"audit chains intact: {verdict.rooms} room(s), {verdict.entries} entries")
    return 0


async def trim_audit(settings: Settings, *, output: Callable[[str], None] = print) -> int:
    container = make_container(settings)
    try:
        trimmed = await (await container.get(TrimAudit)).execute()
    finally:
        await container.close()
    output(f"trimmed {trimmed} audit entries older than {settings.audit_retention_days or 'no'} day(s)")
    return 0
