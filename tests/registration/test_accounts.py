"""Sign-up, e-mail verification link, password reset, phone OTP, and rate limits kept in PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.auth.models import Account
from prakerja.kit.clock import Clock
from prakerja.notifications.models import Channel, Message
from prakerja.registration.models import Applicant, PhoneOtp
from prakerja.registration.service import accounts
from tests.registration.conftest import PASSWORD, csrf, sign_up


def last_message(session: Session, channel: Channel) -> Message:
    session.expire_all()
    return session.scalars(
        select(Message).where(Message.channel == channel).order_by(Message.created_at.desc())
    ).first()  # type: ignore[return-value]


def accounts_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Account)) or 0)


def login(client: TestClient, email: str = "siti@example.org", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/masuk",
        data={"email": email, "password": password, "csrf_token": csrf(client, "/masuk")},
        follow_redirects=False,
    )


class TestSignUp:
    def test_sign_up_signs_in_and_sends_a_verification_link(self, client: TestClient, session: Session) -> None:
        response = sign_up(client)
        assert response.status_code == 303 and response.headers["location"] == "/profil"
        assert client.get("/profil").status_code == 200
        message = last_message(session, Channel.email)
        assert message.recipient == "siti@example.org"
        link = re.search(r"/verifikasi-email/[A-Za-z0-9_-]+", message.body)
        assert link is not None
        page = client.get(link.group(0))
        assert page.status_code == 200 and "terverifikasi" in page.text
        session.expire_all()
        assert session.scalars(select(Account.email_verified_at)).one() is not None
        assert client.get(link.group(0)).status_code == 400  # a link works once

    @pytest.mark.parametrize(
        ("data", "field", "code_text"),
        [
            ({"email": "bukan-email", "name": "Siti", "password": PASSWORD}, "email", "Alamat e-mail tidak valid."),
            ({"email": "a@example.org", "name": "Siti", "password": "pendek"}, "password", "minimal 10 karakter"),
            ({"email": "a@example.org", "name": "<script>x</script>", "password": PASSWORD}, "name", "tidak diizinkan"),
            ({"email": "a@example.org", "name": "N" * 300, "password": PASSWORD}, "name", "paling banyak 100"),
        ],
    )
    def test_bad_sign_up_refused_nothing_written(
        self, client: TestClient, session: Session, data: dict[str, str], field: str, code_text: str
    ) -> None:
        response = client.post("/daftar", data={**data, "csrf_token": csrf(client, "/daftar")})
        assert response.status_code == 422 and f'id="{field}-error"' in response.text and code_text in response.text
        assert accounts_count(session) == 0
        assert session.scalar(select(func.count()).select_from(Message)) == 0

    def test_duplicate_email_refused(self, client: TestClient, session: Session) -> None:
        sign_up(client)
        client.cookies.clear()
        response = sign_up(client, email="SITI@example.org ")
        assert response.status_code == 409 and "E-mail ini sudah terdaftar." in response.text
        assert accounts_count(session) == 1


class TestPasswordReset:
    def test_reset_by_link_then_sign_in(self, client: TestClient, session: Session) -> None:
        sign_up(client)
        client.cookies.clear()
        page = client.post("/lupa-sandi", data={"email": "siti@example.org", "csrf_token": csrf(client, "/lupa-sandi")})
        assert page.status_code == 200
        link = re.search(r"/atur-ulang-sandi/[A-Za-z0-9_-]+", last_message(session, Channel.email).body)
        assert link is not None
        new = "kata-sandi-baru-sekali"
        done = client.post(link.group(0), data={"password": new, "csrf_token": csrf(client, link.group(0))})
        assert done.status_code == 200
        assert login(client, password=PASSWORD).status_code == 401
        assert login(client, password=new).status_code == 303
        assert client.get(link.group(0)).status_code == 400

    def test_unknown_email_looks_the_same_and_sends_nothing(self, client: TestClient, session: Session) -> None:
        page = client.post(
            "/lupa-sandi", data={"email": "tidak@example.org", "csrf_token": csrf(client, "/lupa-sandi")}
        )
        assert page.status_code == 200 and "Jika e-mail itu terdaftar" in page.text
        assert session.scalar(select(func.count()).select_from(Message)) == 0

    def test_expired_link_refused(self, client: TestClient, session: Session, frozen_clock: Clock) -> None:
        sign_up(client)
        client.post("/lupa-sandi", data={"email": "siti@example.org", "csrf_token": csrf(client, "/lupa-sandi")})
        reset_mail = session.scalars(select(Message).where(Message.subject.like("Atur ulang%"))).one()
        link = re.search(r"/atur-ulang-sandi/[A-Za-z0-9_-]+", reset_mail.body)
        assert link is not None
        frozen_clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
        assert client.get(link.group(0)).status_code == 400


class TestLoginRateLimit:
    def test_lockout_with_a_clear_retry_message_across_processes(self, client: TestClient, session: Session) -> None:
        sign_up(client)
        client.cookies.clear()
        for _ in range(accounts.LIMITS["login"].limit):
            assert login(client, password="salah-salah-salah").status_code == 401
        locked = login(client)  # even the right password waits
        assert locked.status_code == 429
        assert "Coba lagi dalam 15 menit." in locked.text
        row = session.execute(
            text("SELECT hits, locked_until IS NOT NULL FROM registration_rate_limits WHERE key LIKE 'login:%'")
        ).one()
        assert row[1] is True  # the counter lives in PostgreSQL, shared by every web process

    def test_api_callers_get_retry_after(self, session: Session) -> None:
        from prakerja.registration.errors import TooManyAttempts

        for _ in range(accounts.LIMITS["reset"].limit):
            accounts.hit("reset", "x@example.org|1.2.3.4")
        with pytest.raises(TooManyAttempts) as raised:
            accounts.hit("reset", "x@example.org|1.2.3.4")
        assert raised.value.status_code == 429 and raised.value.details["retry_after"] == 3600

    def test_lock_expires(self, session: Session, frozen_clock: Clock) -> None:
        from prakerja.registration.errors import TooManyAttempts

        for _ in range(accounts.LIMITS["otp_check"].limit):
            accounts.hit("otp_check", "a")
        with pytest.raises(TooManyAttempts):
            accounts.hit("otp_check", "a")
        frozen_clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
        accounts.hit("otp_check", "a")


def otp_code(session: Session) -> str:
    match = re.search(r"\b(\d{6})\b", last_message(session, Channel.sms).body)
    assert match is not None
    return match.group(1)


class TestPhoneOtp:
    def send(self, client: TestClient, phone: str = "0812 3456 7890"):  # type: ignore[no-untyped-def]
        return client.post(
            "/profil/telepon/kirim", data={"phone": phone, "csrf_token": csrf(client, "/profil/telepon")}
        )

    def confirm(self, client: TestClient, code: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/profil/telepon/kode",
            data={"code": code, "csrf_token": csrf(client, "/profil/telepon")},
            follow_redirects=False,
        )

    def test_code_by_sms_confirms_the_phone(self, applicant_client: TestClient, session: Session) -> None:
        assert self.send(applicant_client).status_code == 200
        message = last_message(session, Channel.sms)
        assert message.recipient == "+6281234567890"
        assert self.confirm(applicant_client, otp_code(session)).status_code == 303
        session.expire_all()
        applicant = session.scalars(select(Applicant)).one()
        assert applicant.phone == "+6281234567890" and applicant.phone_verified_at is not None

    def test_wrong_codes_lock_out(self, applicant_client: TestClient, session: Session) -> None:
        self.send(applicant_client)
        right = otp_code(session)
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(accounts.LIMITS["otp_check"].limit):
            response = self.confirm(applicant_client, wrong)
            assert response.status_code == 422 and 'id="code-error"' in response.text
        locked = self.confirm(applicant_client, right)
        assert locked.status_code == 429 and "Coba lagi dalam" in locked.text
        session.expire_all()
        assert session.scalars(select(Applicant.phone_verified_at)).one() is None

    def test_resend_is_limited(self, applicant_client: TestClient, session: Session) -> None:
        for _ in range(accounts.LIMITS["otp_send"].limit):
            assert self.send(applicant_client).status_code == 200
        refused = self.send(applicant_client)
        assert refused.status_code == 429 and "Coba lagi dalam 30 menit." in refused.text
        assert session.scalar(select(func.count()).select_from(PhoneOtp)) == accounts.LIMITS["otp_send"].limit

    @pytest.mark.parametrize("phone", ["12345", "0212345678", "+1 202 555 0100", "08" + "1" * 20, "<b>0812</b>"])
    def test_bad_numbers_refused_nothing_sent(self, applicant_client: TestClient, session: Session, phone: str) -> None:
        response = self.send(applicant_client, phone)
        assert response.status_code == 422 and 'id="phone-error"' in response.text
        assert session.scalar(select(func.count()).select_from(PhoneOtp)) == 0
        assert session.scalar(select(func.count()).select_from(Message).where(Message.channel == Channel.sms)) == 0

    def test_duplicate_phone_refused(self, client: TestClient, session: Session) -> None:
        sign_up(client, "a@example.org")
        self.send(client)
        self.confirm(client, otp_code(session))
        client.cookies.clear()
        sign_up(client, "b@example.org")
        response = self.send(client)
        assert response.status_code == 409 and "Nomor ponsel ini sudah terdaftar." in response.text
        assert session.scalar(select(func.count()).select_from(PhoneOtp)) == 1

    def test_expired_code_refused(self, applicant_client: TestClient, session: Session, frozen_clock: Clock) -> None:
        self.send(applicant_client)
        code = otp_code(session)
        frozen_clock.advance(timedelta(minutes=6))  # type: ignore[attr-defined]
        assert self.confirm(applicant_client, code).status_code == 422
