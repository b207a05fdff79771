"""``SmtpMailer`` against a real SMTP server process (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy

import pytest

from meet.adapters.smtp.mailer import MailUnavailable, SmtpMailer, SmtpServer
from tests.support.services import SmtpServer as RunningSmtp
from tests.support.services import free_port


async def test_a_message_reaches_the_server(smtp_server: RunningSmtp) -> None:
    before = len(smtp_server.messages())
    mailer = SmtpMailer(SmtpServer(host=smtp_server.host, port=smtp_server.port, sender="meet@example.org"))

    await mailer.send("owner@example.org", "Your recording of Réunion is ready", "Download it at:\nhttps://x/y\n")

    messages = smtp_server.messages()
    assert len(messages) == before + 1
    received = email.message_from_bytes(messages[-1], policy=email.policy.default)
    assert received["To"] == "owner@example.org"
    assert received["From"] == "meet@example.org"
    assert received["Subject"] == "Your recording of Réunion is ready"
    body = received.get_body(("plain",))
    assert body is not None
    assert "https://x/y" in body.get_content()


async def test_an_unreachable_server_is_unavailable() -> None:
    mailer = SmtpMailer(SmtpServer(host="127.0.0.1", port=free_port(), timeout_seconds=2))
    with pytest.raises(MailUnavailable):
        await mailer.send("owner@example.org", "subject", "body")
