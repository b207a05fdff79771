from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ParticipantCredentials:
    """What a verified participant token says: who it was issued to, for which SFU room."""

    identity: str
    room: str
    expires_at: datetime


class ParticipantTokenVerifier(Protocol):
    """Checks a participant's own SFU token; raises ``InvalidParticipantToken`` when bad or expired."""

    def verify(self, token: str) -> ParticipantCredentials: ...
