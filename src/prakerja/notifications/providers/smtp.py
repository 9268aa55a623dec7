"""E-mail through an SMTP server (STARTTLS, implicit TLS or plain on loopback), with explicit timeouts.

SMTP has no idempotency key, so each message carries a stable ``Message-ID`` built from our message id: a
delivery retried after the server accepted it (the job died before its commit) carries the same id, which mail
systems and people's clients use to recognise the duplicate."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja.notifications.providers.base import DeliveryFailed, Outgoing, TemporaryFailure


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        sender: str,
        timeout: float = 10.0,
        ca_file: Path | None = None,
    ) -> None:
        if security not in {"starttls", "ssl", "none"}:
            raise ValueError("security must be starttls, ssl or none")
        self.host, self.port, self.security = host, port, security
        self.username, self.password = username, password
        self.sender, self.timeout, self.ca_file = sender, timeout, ca_file

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            client.starttls(context=self._tls())
        return client

    def build(self, message: Outgoing) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = f"<{message.message_id}@prakerja>"
        email.set_content(message.body)
        return email

    def send(self, session: Session, message: Outgoing) -> str:
        email = self.build(message)
        try:
            with self._connect() as client:
                if self.username:
                    client.login(self.username, self.password or "")
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(400 <= code < 500 for code in codes):
                raise TemporaryFailure("smtp: recipient deferred") from None
            raise DeliveryFailed("smtp: recipient refused") from None
        except smtplib.SMTPAuthenticationError:
            raise TemporaryFailure("smtp: authentication failed (check PRAKERJA_SMTP_USERNAME/PASSWORD)") from None
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600:
                raise DeliveryFailed(f"smtp: refused with {error.smtp_code}") from None
            raise TemporaryFailure(f"smtp: deferred with {error.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as error:
            raise TemporaryFailure(f"smtp: {type(error).__name__}") from None
        return str(email["Message-ID"])
