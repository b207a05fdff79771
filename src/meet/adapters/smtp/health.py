"""Whether the SMTP server answers, and accepts our login: without sending anything."""

from __future__ import annotations

import aiosmtplib

from meet.adapters.smtp.mailer import SmtpServer


class SmtpHealth:
    name = "smtp"

    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def ping(self) -> None:
        server = self._server
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.tls == "tls",
            start_tls=True if server.tls == "starttls" else False,  # noqa: SIM210 - False, not None (auto)
            timeout=server.timeout_seconds,
        )
        async with client:
            if server.user:
                await client.login(server.user, server.password)
            await client.noop()
