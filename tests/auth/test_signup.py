"""Sign-up, the e-mail verification link, password reset, and the sign-in rate limit kept in PostgreSQL."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from prakerja.auth import service as auth_service
from prakerja.auth.errors import TooManyAttempts
from prakerja.auth.models import Account
from prakerja.auth.service import LIMITS
from prakerja.kit.clock import Clock
from prakerja.notifications.models import Channel, Message
from prakerja.web.limits import count_attempt
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
    def test_check_your_mail_page_points_to_the_development_mailbox(self, client: TestClient) -> None:
        """With the development sender nothing leaves the program: the page says where the message is instead."""
        page = client.get("/daftar/terkirim").text
        assert 'data-testid="dev-mailbox-hint"' in page and 'href="/dev/kotak-pesan"' in page

    def test_sign_up_sends_a_verification_link(self, client: TestClient, session: Session) -> None:
        response = sign_up(client)  # then signs in with the password
        assert response.status_code == 303 and response.headers["location"] == "/daftar/terkirim"
        assert "prakerja_session" not in response.headers.get("set-cookie", "")
        assert "Kami mengirim e-mail ke alamat itu" in client.get("/daftar/terkirim").text
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

    def test_duplicate_email_creates_nothing(self, client: TestClient, session: Session) -> None:
        sign_up(client)
        client.cookies.clear()
        response = sign_up(client, email="SITI@example.org ")
        assert response.status_code == 303 and response.headers["location"] == "/daftar/terkirim"
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
        for _ in range(LIMITS["login"].limit - 1):  # sign_up signed in once
            assert login(client, password="salah-salah-salah").status_code == 401
        locked = login(client)  # even the right password waits
        assert locked.status_code == 429
        assert "Coba lagi dalam 15 menit." in locked.text
        row = session.execute(
            text("SELECT hits, locked_until IS NOT NULL FROM registration_rate_limits WHERE key LIKE 'login:%'")
        ).one()
        assert row[1] is True  # the counter lives in PostgreSQL, shared by every web process

    def test_api_callers_get_retry_after(self, session: Session) -> None:
        for _ in range(LIMITS["reset"].limit):
            count_attempt("reset", "x@example.org|1.2.3.4")
        with pytest.raises(TooManyAttempts) as raised:
            count_attempt("reset", "x@example.org|1.2.3.4")
        assert raised.value.status_code == 429 and raised.value.details["retry_after"] == 3600

    def test_lock_expires(self, session: Session, frozen_clock: Clock) -> None:
        for _ in range(LIMITS["otp_check"].limit):
            count_attempt("otp_check", "a")
        with pytest.raises(TooManyAttempts):
            count_attempt("otp_check", "a")
        frozen_clock.advance(timedelta(minutes=16))  # type: ignore[attr-defined]
        count_attempt("otp_check", "a")


def test_two_sign_ups_with_one_email_at_once_make_one_account_and_no_error(clean_db: Engine) -> None:
    """The second sign-up waits for the first and then finds its account: no unique-index violation (a 500)."""
    started = threading.Barrier(2)
    errors: list[BaseException] = []

    def sign_up_once() -> None:
        try:
            with Session(clean_db) as session:
                started.wait()
                auth_service.sign_up(
                    session, email="kembar@example.id", password="sandi-yang-panjang-1", name="Siti Kembar"
                )
                session.commit()
        except BaseException as error:  # the test reports whatever escaped
            errors.append(error)

    threads = [threading.Thread(target=sign_up_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with Session(clean_db) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 1
