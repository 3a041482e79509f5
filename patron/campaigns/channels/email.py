"""Email over SMTP (django.core.mail), one connection per batch.

The SMTP backend is built from the `channels.email` section: smtp_host, smtp_port (default 25,
or 465 with tls), username, password, tls (true: implicit TLS on 465, STARTTLS elsewhere).
The provider id is the Message-ID header. A refused recipient fails only its message.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.utils import make_msgid
from typing import Any

from django.core.mail import EmailMessage, get_connection

from patron.campaigns.channels.base import Outgoing, Result, failed_all


class Email:
    name = "smtp"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def connection(self):
        config = self.config
        tls = bool(config.get("tls"))
        port = config.get("smtp_port") or (465 if tls else 25)
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=config["smtp_host"],
            port=port,
            username=config.get("username") or "",
            password=config.get("password") or "",
            use_ssl=tls and port == 465,
            use_tls=tls and port != 465,
            timeout=10,
        )

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        connection = self.connection()
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as error:
            return failed_all(batch, type(error).__name__)
        results = []
        try:
            for item in batch:
                message_id = make_msgid(domain="patron")
                mail = EmailMessage(
                    subject=item.subject,
                    body=item.body,
                    from_email=self.config.get("from") or None,
                    to=[item.address],
                    headers={"Message-ID": message_id},
                    connection=connection,
                )
                try:
                    mail.send()
                except smtplib.SMTPRecipientsRefused:
                    results.append(Result(item.message_id, error="recipient_refused"))
                except (OSError, smtplib.SMTPException) as error:
                    results.append(Result(item.message_id, error=type(error).__name__))
                else:
                    results.append(Result(item.message_id, provider_id=message_id.strip("<>")))
        finally:
            connection.close()
        return results
