"""The phone step: a code by SMS, wrong codes and resends limited (counters kept by auth, in PostgreSQL)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.auth.service import LIMITS
from prakerja.kit.clock import Clock
from prakerja.notifications.models import Channel, Message
from prakerja.registration.models import Applicant, PhoneOtp
from tests.registration.conftest import csrf, sign_up


def last_message(session: Session, channel: Channel) -> Message:
    session.expire_all()
    return session.scalars(
        select(Message).where(Message.channel == channel).order_by(Message.created_at.desc())
    ).first()  # type: ignore[return-value]


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
        for _ in range(LIMITS["otp_check"].limit):
            response = self.confirm(applicant_client, wrong)
            assert response.status_code == 422 and 'id="code-error"' in response.text
        locked = self.confirm(applicant_client, right)
        assert locked.status_code == 429 and "Coba lagi dalam" in locked.text
        session.expire_all()
        assert session.scalars(select(Applicant.phone_verified_at)).one() is None

    def test_resend_is_limited(self, applicant_client: TestClient, session: Session) -> None:
        for _ in range(LIMITS["otp_send"].limit):
            assert self.send(applicant_client).status_code == 200
        refused = self.send(applicant_client)
        assert refused.status_code == 429 and "Coba lagi dalam 30 menit." in refused.text
        assert session.scalar(select(func.count()).select_from(PhoneOtp)) == LIMITS["otp_send"].limit

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
