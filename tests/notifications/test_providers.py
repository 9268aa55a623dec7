"""Each sender against a real counterpart: an SMTP server (aiosmtpd) and the SMS gateway simulator over HTTP."""

from __future__ import annotations

import datetime
import email
import ipaddress
import re
import ssl
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.config import get_settings
from prakerja.notifications import service
from prakerja.notifications.models import Channel, DevOutboxItem, Message, MessageStatus
from prakerja.notifications.providers.base import Outgoing, TemporaryFailure
from prakerja.notifications.providers.sms_http import HttpSmsSender
from prakerja.notifications.providers.smtp import SmtpSender
from tests.conftest import free_port
from tests.notifications.conftest import GATEWAY_TOKEN, Gateway, csrf, run_jobs, sign_up


class Mailbox:
    """An aiosmtpd handler keeping what it received; ``refuse`` makes it refuse recipients for good."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.refuse = False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or e.content, _class=EmailMessage, policy=policy.default)  # type: ignore[arg-type]
            for e in self.envelopes
        ]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _queue_sms(
    session: Session, phone: str = "+6281234567890", body: str = "Kode OTP Kartu Prakerja: 246810"
) -> Message:
    message = service.queue_message(session, channel=Channel.sms, recipient=phone, subject="Kode OTP", body=body)
    session.commit()
    return message


class TestSmtp:
    def test_verification_mail_travels_through_smtp(
        self,
        settings_env: Callable[..., None],
        make_client: Callable[[], TestClient],
        session: Session,
        smtp_server: tuple[Mailbox, int],
    ) -> None:
        mailbox, port = smtp_server
        settings_env(EMAIL_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none")
        client = make_client()
        sign_up(client, "siti@example.org")
        assert mailbox.envelopes == []  # only the job sends
        run_jobs()

        [envelope] = mailbox.envelopes
        assert envelope.rcpt_tos == ["siti@example.org"]
        [received] = mailbox.messages()
        assert received["To"] == "siti@example.org"
        assert received["Subject"] == "Verifikasi e-mail Kartu Prakerja"
        public = re.escape(get_settings().public_base_url)  # links never come from the request's Host header
        link = re.search(rf"{public}(/verifikasi-email/[A-Za-z0-9_-]+)", received.get_content())
        assert link, received.get_content()

        message = session.scalars(select(Message)).one()
        assert message.status is MessageStatus.sent and message.attempts == 1
        assert received["Message-ID"] == f"<{message.id}@prakerja>" == message.provider_ref
        assert message.body == ""  # erased once the server has it
        assert session.scalar(select(func.count()).select_from(DevOutboxItem)) == 0

        page = client.get(link.group(1))  # the link works: the mail carried the real token
        assert page.status_code == 200 and "terverifikasi" in page.text

    def test_starttls_and_login(self, tmp_path: Path) -> None:
        cert, key = _self_signed(tmp_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        logins: list[tuple[bytes, bytes]] = []

        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            assert isinstance(data, LoginPassword)
            logins.append((data.login, data.password))
            return AuthResult(success=data.login == b"prakerja" and data.password == b"rahasia")

        mailbox, port = Mailbox(), free_port()
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        )
        controller.start()
        try:
            sender = SmtpSender(
                host="127.0.0.1",
                port=port,
                security="starttls",
                username="prakerja",
                password="rahasia",
                sender="Kartu Prakerja <noreply@prakerja.example>",
                ca_file=cert,
                timeout=5,
            )
            outgoing = Outgoing("0b7e0c1e-0000-4000-8000-000000000001", "email", "budi@example.org", "Halo", "Isi")
            assert sender.send(None, outgoing) == "<0b7e0c1e-0000-4000-8000-000000000001@prakerja>"  # type: ignore[arg-type]
            wrong = SmtpSender(
                host="127.0.0.1", port=port, username="prakerja", password="salah", sender="x@y.z", ca_file=cert
            )
            with pytest.raises(TemporaryFailure):
                wrong.send(None, outgoing)  # type: ignore[arg-type]
        finally:
            controller.stop()
        assert logins[0] == (b"prakerja", b"rahasia")
        assert [e.rcpt_tos for e in mailbox.envelopes] == [["budi@example.org"]]

    def test_refused_recipient_fails_for_good(
        self, settings_env: Callable[..., None], session: Session, smtp_server: tuple[Mailbox, int]
    ) -> None:
        mailbox, port = smtp_server
        mailbox.refuse = True
        settings_env(EMAIL_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none")
        message = service.queue_message(
            session, channel=Channel.email, recipient="nobody@example.org", subject="Halo", body="Isi"
        )
        session.commit()
        assert service.deliver(session, message.id) is MessageStatus.failed
        session.commit()
        assert service.deliver(session, message.id) is MessageStatus.failed  # not tried again
        assert mailbox.envelopes == []

    def test_server_down_retries_later_and_changes_nothing(
        self, settings_env: Callable[..., None], session: Session
    ) -> None:
        settings_env(EMAIL_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
        message = service.queue_message(
            session, channel=Channel.email, recipient="a@example.org", subject="H", body="I"
        )
        session.commit()
        with pytest.raises(TemporaryFailure):
            service.deliver(session, message.id)
        session.rollback()  # what the job's unit of work does; the job is retried
        session.expire_all()
        again = session.get(Message, message.id)
        assert again is not None and again.status is MessageStatus.queued and again.body == "I"


class TestHttpSms:
    def _settings(self, settings_env: Callable[..., None], gateway: Gateway) -> None:
        settings_env(SMS_SENDER="http", SMS_GATEWAY_URL=gateway.url, SMS_GATEWAY_TOKEN=GATEWAY_TOKEN)

    def test_otp_travels_to_the_gateway(
        self,
        settings_env: Callable[..., None],
        make_client: Callable[[], TestClient],
        session: Session,
        sms_gateway: Gateway,
    ) -> None:
        self._settings(settings_env, sms_gateway)
        client = make_client()
        sign_up(client, "siti@example.org")
        sent = client.post(
            "/profil/telepon/kirim", data={"phone": "0812 3456 7890", "csrf_token": csrf(client, "/profil/telepon")}
        )
        assert sent.status_code == 200
        assert sms_gateway.received() == []
        run_jobs()

        [received] = sms_gateway.received()
        assert received["to"] == "+6281234567890"
        code = re.search(r"\b(\d{6})\b", received["text"])
        assert code and "JANGAN" in received["text"]
        message = session.scalars(select(Message).where(Message.channel == Channel.sms)).one()
        assert received["id"] == str(message.id)
        assert message.status is MessageStatus.sent and message.provider_ref == f"sms:{received['ref']}"

        confirmed = client.post(
            "/profil/telepon/kode",
            data={"code": code.group(1), "csrf_token": csrf(client, "/profil/telepon")},
            follow_redirects=False,
        )
        assert confirmed.status_code == 303  # the code the gateway carried is the real one

    def test_a_flaky_gateway_is_retried_and_sends_once(
        self, settings_env: Callable[..., None], session: Session, sms_gateway: Gateway
    ) -> None:
        self._settings(settings_env, sms_gateway)
        sms_gateway.set("flaky")  # every other request answers 503
        message = _queue_sms(session)
        assert service.deliver(session, message.id) is MessageStatus.sent
        session.commit()
        assert len(sms_gateway.received()) == 1 and sms_gateway.state.calls == 2

    def test_the_gateway_drops_a_repeat_of_the_same_message(self, sms_gateway: Gateway) -> None:
        """The job died after the gateway accepted the SMS: the retry carries the same id and sends nothing."""
        sender = HttpSmsSender(base_url=sms_gateway.url, token=GATEWAY_TOKEN, timeout=5)
        outgoing = Outgoing("3f1c", "sms", "+6281234567890", "Kode OTP", "Kode 135790")
        assert sender.send(None, outgoing) == sender.send(None, outgoing)  # type: ignore[arg-type]
        assert len(sms_gateway.received()) == 1

    def test_a_message_the_gateway_refuses_fails_for_good(
        self, settings_env: Callable[..., None], session: Session, sms_gateway: Gateway
    ) -> None:
        self._settings(settings_env, sms_gateway)
        message = _queue_sms(session, phone="0812")  # not an E.164 number: the gateway answers 422
        assert service.deliver(session, message.id) is MessageStatus.failed
        session.commit()
        assert sms_gateway.received() == [] and sms_gateway.state.calls == 1

    @pytest.mark.parametrize(("mode", "token"), [("down", GATEWAY_TOKEN), ("none", "wrong-token")])
    def test_down_or_misconfigured_gateway_retries_later(
        self, settings_env: Callable[..., None], session: Session, sms_gateway: Gateway, mode: str, token: str
    ) -> None:
        settings_env(SMS_SENDER="http", SMS_GATEWAY_URL=sms_gateway.url, SMS_GATEWAY_TOKEN=token)
        sms_gateway.set(mode)
        message = _queue_sms(session)
        with pytest.raises(TemporaryFailure):
            service.deliver(session, message.id)
        session.rollback()
        assert sms_gateway.received() == []
        assert session.get(Message, message.id).status is MessageStatus.queued  # type: ignore[union-attr]
