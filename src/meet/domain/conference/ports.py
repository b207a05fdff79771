from __future__ import annotations

from typing import Protocol

from meet.domain.conference.model import ConnectionConfig, Participant, ParticipantGrants


class TokenIssuer(Protocol):
    """Signs short-lived SFU access tokens carrying exactly the given grants."""

    def connection_for(self, participant: Participant, grants: ParticipantGrants) -> ConnectionConfig: ...
