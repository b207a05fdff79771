from __future__ import annotations

import logging

logger = logging.getLogger("meet.mail")


class LogMailer:
    """No mail server configured: say in the log what would have been sent, and send nothing."""

    async def send(self, to: str, subject: str, body: str) -> None:  # noqa: ARG002 - the body stays private
        logger.info("no SMTP server configured; not sending %r to %s", subject, to)
