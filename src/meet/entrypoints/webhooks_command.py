"""``meet webhooks add URL --events T,T | list | remove ID | rotate ID``: the operator's endpoints."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Sequence

from meet.domain.shared.errors import DomainError
from meet.domain.webhooks.use_cases import (
    AddEndpointRequest,
    AddWebhookEndpoint,
    ListWebhookEndpoints,
    RemoveWebhookEndpoint,
    RotateWebhookSecret,
)
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings


def _error(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def webhooks_command(
    settings: Settings,
    action: str,
    *,
    url: str | None = None,
    events: Sequence[str] = (),
    endpoint_id: uuid.UUID | None = None,
    output: Callable[[str], None] = print,
    error: Callable[[str], None] = _error,
) -> int:
    container = make_container(settings)
    try:
        if action == "add":
            added = await (await container.get(AddWebhookEndpoint)).execute(AddEndpointRequest(url or "", events))
            output(f"id: {added.endpoint.id}")
            output(f"secret: {added.secret}")
            output("The secret is shown this once: give it to the receiver now.")
        elif action == "list":
            for endpoint in await (await container.get(ListWebhookEndpoints)).execute():
                state = "enabled" if endpoint.enabled else f"disabled ({endpoint.disabled_reason})"
                output(f"{endpoint.id}  {endpoint.url}  {','.join(endpoint.event_types)}  {state}")
        elif action == "remove":
            assert endpoint_id is not None
            await (await container.get(RemoveWebhookEndpoint)).execute(endpoint_id)
            output(f"removed {endpoint_id}")
        else:
            assert endpoint_id is not None
            secret = await (await container.get(RotateWebhookSecret)).execute(endpoint_id)
            output(f"id: {endpoint_id}")
            output(f"secret: {secret}")
            output(
                f"The previous secret keeps signing beside this one for {settings.webhook_rotation_overlap_hours} h."
            )
    except DomainError as refused:
        error(f"meet webhooks {action}: {refused.message}")
        return 2
    finally:
        await container.close()
    return 0
