"""Mail in memory, for unit tests: every message sent is kept."""

from __future__ import annotations

import logging
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


class LoggingMailer:
    """No mail server configured: say in the log what would have been sent, and send nothing."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("meet.mail")

    async def send(self, to: str, subject: str, body: str) -> None:  # noqa: ARG002 - the body stays private
        self._logger.info("no SMTP server configured; not sending %r to %s", subject, to)
