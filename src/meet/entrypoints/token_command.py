"""``meet token``: the token the grant policy issues for one participant of one room, and what it grants."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from meet.domain.conference.model import Participant, ParticipantGrants
from meet.domain.conference.ports import TokenIssuer
from meet.domain.rooms.model import Role, Room
from meet.domain.rooms.ports import RoomReader
from meet.domain.shared.text import slugify
from meet.entrypoints.providers import make_container
from meet.entrypoints.settings import Settings


def decoded_claims(token: str) -> dict[str, Any]:
    """The JWT's payload as issued (checking its signature is the SFU's business; this only shows it)."""
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


async def print_token(
    settings: Settings,
    *,
    room: str,
    identity: str,
    role: Role | None,
    name: str | None,
    output: Callable[[str], None] = print,
) -> int:
    """The registered room of that slug (its publish sources apply), else the temporary room of that name."""
    container = make_container(settings)
    try:
        slug = slugify(room)
        target = await (await container.get(RoomReader)).room_by_slug(slug) or Room.temporary(slug)
        issuer = await container.get(TokenIssuer)
        participant = Participant.build(
            identity=identity, requested_name=name, full_name=None, role=role, is_authenticated=role is not None
        )
        connection = issuer.connection_for(participant, ParticipantGrants.for_role(target, role))
    finally:
        await container.close()
    output(f"url: {connection.url}")
    output(f"room: {connection.room}{' (temporary)' if target.is_temporary else ''}")
    output(f"token: {connection.token}")
    output(json.dumps(decoded_claims(connection.token), indent=2, sort_keys=True))
    return 0
