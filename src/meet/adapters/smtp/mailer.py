"""``Mailer`` over SMTP with aiosmtplib: STARTTLS or implicit TLS, optional login."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Literal

import aiosmtplib

from meet.domain.shared.errors import ServiceUnavailable, UpstreamFailure

logger = logging.getLogger("meet.mail")

TlsMode = Literal["none", "starttls", "tls"]


class MailUnavailable(ServiceUnavailable):
    default_message = "The mail server cannot be reached."
    code = "mail_unavailable"


class MailRefused(UpstreamFailure):
    default_message = "The mail server refused the message."
    code = "mail_refused"


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int = 25
    sender: str = "meet@localhost"
    user: str = ""
    password: str = field(default="", repr=False)
    tls: TlsMode = "none"
    timeout_seconds: float = 10.0


class SmtpMailer:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._server.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        server = self._server
        try:
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.user or None,
                password=server.password or None,
                use_tls=server.tls == "tls",
                start_tls=True if server.tls == "starttls" else False,  # noqa: SIM210 - False, not None (auto)
                timeout=server.timeout_seconds,
            )
        except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError) as error:
            logger.warning("SMTP server %s:%s unreachable: %s", server.host, server.port, type(error).__name__)
            raise MailUnavailable from error
        except aiosmtplib.SMTPException as error:
            logger.warning("SMTP server %s:%s refused a message: %s", server.host, server.port, type(error).__name__)
            raise MailRefused from error
        except OSError as error:
            raise MailUnavailable from error
