"""Mail in memory, for unit tests: every message sent is kept."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str


@dataclass
class MemoryMailer:
    sent: list[SentMail] = field(default_factory=list)

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append(SentMail(to, subject, body))
