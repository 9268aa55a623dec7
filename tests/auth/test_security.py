"""The holes of the security issue in sign-up, sign-in and password reset, each with what now stops it
(docs/security.md, "Accounts")."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from prakerja.auth import rules
from prakerja.auth.models import Account, AccountToken, LoginSession, Role
from prakerja.auth.service import LIMITS, create_account
from prakerja.config import SettingsError, get_settings
from prakerja.notifications.models import Channel, Message
from prakerja.web.deps import client_ip
from tests.registration.conftest import PASSWORD, csrf, sign_up


def messages(session: Session, recipient: str | None = None) -> list[Message]:
    session.expire_all()
    query = select(Message).where(Message.channel == Channel.email).order_by(Message.created_at)
    found = session.scalars(query).all()
    return [m for m in found if recipient is None or m.recipient == recipient]


def post_sign_up(client: TestClient, email: str, name: str = "Siti Rahmawati", password: str = PASSWORD) -> Any:
    return client.post(
        "/daftar",
        data={"email": email, "name": name, "password": password, "csrf_token": csrf(client, "/daftar")},
        follow_redirects=False,
    )


def login(client: TestClient, email: str = "siti@example.org", password: str = PASSWORD) -> Any:
    return client.post(
        "/masuk",
        data={"email": email, "password": password, "csrf_token": csrf(client, "/masuk")},
        follow_redirects=False,
    )


def request_reset(client: TestClient, session: Session, email: str = "siti@example.org") -> str:
    client.post("/lupa-sandi", data={"email": email, "csrf_token": csrf(client, "/lupa-sandi")})
    found = re.search(r"https?://[^/\s]+/atur-ulang-sandi/[A-Za-z0-9_-]+", messages(session, email)[-1].body)
    assert found is not None
    return found.group(0)


# --- links are built from the configured public address, never from the Host header ------------------------------


class TestLinksUsePublicBaseUrl:
    def test_verification_and_reset_links_ignore_the_host_header(self, client: TestClient, session: Session) -> None:
        evil = {"Host": "evil.example"}
        token = csrf(client, "/daftar")
        client.post(
            "/daftar",
            data={"email": "siti@example.org", "name": "Siti", "password": PASSWORD, "csrf_token": token},
            headers=evil,
        )
        client.post("/lupa-sandi", data={"email": "siti@example.org", "csrf_token": token}, headers=evil)
        bodies = [m.body for m in messages(session, "siti@example.org")]
        assert len(bodies) == 2
        public = get_settings().public_base_url
        for body in bodies:
            assert "evil.example" not in body
            assert f"{public}/verifikasi-email/" in body or f"{public}/atur-ulang-sandi/" in body

    def test_production_requires_an_explicit_https_public_url(self, settings_env: Callable[..., None]) -> None:
        production = {
            "ENV": "production",
            "DATABASE_URL": "postgresql://prakerja@db.internal/prakerja",
            "SECRET_KEY": "s",
            "PII_KEYS": "k1:AAAA",
            "BLIND_INDEX_KEY": "AAAA",
            "SIGNING_KEY": "AAAA",
            "EMAIL_SENDER": "smtp",
            "SMTP_HOST": "smtp.internal",
            "SMS_SENDER": "http",
            "SMS_GATEWAY_TOKEN": "t",
        }
        settings_env(**production)
        with pytest.raises(SettingsError, match="PRAKERJA_PUBLIC_BASE_URL: required"):
            get_settings()
        settings_env(PUBLIC_BASE_URL="http://prakerja.example.id")
        with pytest.raises(SettingsError, match="PRAKERJA_PUBLIC_BASE_URL: must be https"):
            get_settings()
        settings_env(PUBLIC_BASE_URL="https://prakerja.example.id/")
        assert get_settings().public_base_url == "https://prakerja.example.id"

    @pytest.mark.parametrize("value", ["prakerja.example.id", "https://prakerja.example.id/app", "ftp://x"])
    def test_a_public_url_with_a_path_or_no_scheme_is_refused(
        self, settings_env: Callable[..., None], value: str
    ) -> None:
        settings_env(PUBLIC_BASE_URL=value)
        with pytest.raises(SettingsError, match="PRAKERJA_PUBLIC_BASE_URL"):
            get_settings()


# --- a reset ends every session and voids the other links ---------------------------------------------------------


class TestResetEndsEverything:
    def test_reset_signs_out_everywhere_and_voids_other_reset_links(
        self, app: FastAPI, client: TestClient, session: Session
    ) -> None:
        sign_up(client)  # signed in here
        other_device = TestClient(app)
        assert login(other_device).status_code == 303
        assert client.get("/profil").status_code == 200 and other_device.get("/profil").status_code == 200
        first = request_reset(client, session)
        second = request_reset(client, session)
        path = second.split("://", 1)[1].split("/", 1)[1]
        form = {"password": "kata-sandi-baru-sekali", "csrf_token": csrf(client, "/masuk")}
        done = client.post(f"/{path}", data=form)
        assert done.status_code == 200
        assert "dikeluarkan dari semua perangkat" in done.text
        for browser in (client, other_device):
            assert browser.get("/profil", follow_redirects=False).status_code == 303  # to /masuk
        first_path = "/" + first.split("://", 1)[1].split("/", 1)[1]
        assert client.get(first_path).status_code == 400
        session.expire_all()
        assert (
            session.scalar(select(func.count()).select_from(LoginSession).where(LoginSession.revoked_at.is_(None))) == 0
        )
        unused = (
            select(func.count())
            .select_from(AccountToken)
            .where(AccountToken.purpose == "reset_password", AccountToken.used_at.is_(None))
        )
        assert session.scalar(unused) == 0
        assert login(client, password="kata-sandi-baru-sekali").status_code == 303


# --- sign-in throttling -------------------------------------------------------------------------------------------


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 5000)})


class TestClientAddress:
    def test_forwarded_for_is_ignored_by_default(self, settings_env: Callable[..., None]) -> None:
        settings_env()
        assert client_ip(_request("127.0.0.1", "203.0.113.9")) == "127.0.0.1"

    def test_forwarded_for_is_read_only_from_a_trusted_proxy(self, settings_env: Callable[..., None]) -> None:
        settings_env(TRUSTED_PROXIES="10.0.0.0/24")
        assert client_ip(_request("10.0.0.5", "203.0.113.9")) == "203.0.113.9"
        # what the client wrote itself comes before what the proxy appended: only the proxy's hop counts
        assert client_ip(_request("10.0.0.5", "198.51.100.1, 203.0.113.9")) == "203.0.113.9"
        assert client_ip(_request("10.0.0.5", "203.0.113.9, 10.0.0.7")) == "203.0.113.9"
        assert client_ip(_request("192.0.2.1", "203.0.113.9")) == "192.0.2.1"  # not a proxy: the header is ignored
        assert client_ip(_request("10.0.0.5", "nonsense")) == "10.0.0.5"

    def test_serve_does_not_let_uvicorn_believe_forwarded_headers(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import uvicorn

        from prakerja import cli

        seen: dict[str, object] = {}

        def run(server: uvicorn.Server, sockets: object = None) -> None:  # record the config, serve nothing
            seen["proxy_headers"] = server.config.proxy_headers
            server.started = True

        monkeypatch.setattr(uvicorn.Server, "run", run)
        monkeypatch.setattr(cli, "check_port_free", lambda host, port: None)
        cli._serve("127.0.0.1", 8000, in_process_worker=False)
        assert seen["proxy_headers"] is False

    def test_a_bad_trusted_proxy_setting_is_refused(self, settings_env: Callable[..., None]) -> None:
        settings_env(TRUSTED_PROXIES="10.0.0.0/24,proxy.internal")
        with pytest.raises(SettingsError, match="PRAKERJA_TRUSTED_PROXIES"):
            get_settings()


class TestPerAccountLimit:
    def test_wrong_passwords_from_many_addresses_lock_the_account_and_a_reset_lifts_it(
        self, app: FastAPI, client: TestClient, session: Session
    ) -> None:
        sign_up(client)
        client.cookies.clear()
        for n in range(LIMITS["login_account"].limit):
            elsewhere = TestClient(app, client=(f"198.51.100.{n + 1}", 5000))
            assert login(elsewhere, password="salah-salah-salah").status_code == 401
        fresh = TestClient(app, client=("203.0.113.50", 5000))
        locked = login(fresh)  # the right password, from yet another address
        assert locked.status_code == 429
        assert locked.headers["Retry-After"] == "900"
        assert "akun ini dikunci sementara" in locked.text and "Lupa kata sandi" in locked.text
        link = request_reset(fresh, session)
        path = "/" + link.split("://", 1)[1].split("/", 1)[1]
        fresh.post(path, data={"password": "kata-sandi-baru-sekali", "csrf_token": csrf(fresh, "/masuk")})
        assert login(fresh, password="kata-sandi-baru-sekali").status_code == 303


class TestRetryAfter:
    def test_every_429_page_says_when_to_retry(self, client: TestClient, session: Session) -> None:
        for _ in range(LIMITS["reset"].limit):
            client.post("/lupa-sandi", data={"email": "x@example.org", "csrf_token": csrf(client, "/lupa-sandi")})
        refused = client.post("/lupa-sandi", data={"email": "x@example.org", "csrf_token": csrf(client, "/lupa-sandi")})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "3600"


# --- the password rule -------------------------------------------------------------------------------------------


class TestPasswordRule:
    @pytest.mark.parametrize(
        ("password", "code"),
        [
            ("aaaaaaaaaa", "password_repeated"),
            ("abababababab", "password_repeated"),
            ("1234567890", "password_common"),
            ("password123", "password_common"),
            ("Qwertyuiop!", "password_common"),
            ("iloveyou2024!", "password_common"),
            ("siti.rahmawati", "password_contains_email"),
            ("SITI.RAHMAWATI-2025", "password_contains_email"),
        ],
    )
    def test_weak_passwords_refused_with_a_reason(self, password: str, code: str) -> None:
        problems = rules.password_problems(password, email="siti.rahmawati@example.org")
        assert [p.code for p in problems] == [code]
        assert problems[0].message_id and problems[0].message_en and problems[0].message_id != problems[0].message_en

    def test_good_passwords_pass(self) -> None:
        for password in ("kata-sandi-rahasia", "Gunung Merapi 2024", "tiga ekor kucing oranye"):
            assert rules.password_problems(password, email="siti.rahmawati@example.org") == []

    def test_the_list_is_shipped_with_the_package(self) -> None:
        assert len(rules.common_passwords()) >= 10_000 - 100 and "password" in rules.common_passwords()

    def test_sign_up_and_reset_refuse_a_common_password(self, client: TestClient, session: Session) -> None:
        refused = post_sign_up(client, "budi@example.org", password="password123")
        assert refused.status_code == 422 and "terlalu umum" in refused.text
        assert session.scalar(select(func.count()).select_from(Account)) == 0
        sign_up(client)
        link = request_reset(client, session)
        path = "/" + link.split("://", 1)[1].split("/", 1)[1]
        weak = client.post(path, data={"password": "aaaaaaaaaaaa", "csrf_token": csrf(client, "/masuk")})
        assert weak.status_code == 422 and "diulang" in weak.text

    def test_staff_accounts_follow_the_rule(self, session: Session) -> None:
        from prakerja.auth.errors import WeakPassword

        with pytest.raises(WeakPassword) as refused:
            create_account(
                session, email="admin@example.org", password="1234567890", role=Role.pmo_admin, display_name="Admin"
            )
        assert refused.value.details["fields"][0]["code"] == "password_common"


# --- sign-up does not reveal which e-mails are registered --------------------------------------------------------


class TestSignUpEnumeration:
    def test_taken_and_new_addresses_get_the_same_answer(self, app: FastAPI, session: Session) -> None:
        create_account(
            session, email="petugas@example.org", password=PASSWORD, role=Role.pmo_officer, display_name="Petugas"
        )
        session.commit()
        answers = []
        for email in ("petugas@example.org", "baru@example.org"):
            browser = TestClient(app)
            response = post_sign_up(browser, email)
            page = browser.get(response.headers["location"])
            answers.append((response.status_code, response.headers["location"], page.status_code, page.text))
            assert "prakerja_session" not in response.headers.get("set-cookie", "")
        assert answers[0][:3] == answers[1][:3] == (303, "/daftar/terkirim", 200)
        assert "Kami mengirim e-mail ke alamat itu" in answers[0][3]
        assert answers[0][3].replace("petugas", "baru") == answers[1][3].replace("petugas", "baru")
        assert session.scalar(select(func.count()).select_from(Account)) == 2
        notice = messages(session, "petugas@example.org")
        assert len(notice) == 1 and "mencoba membuat akun" in notice[0].body and "/atur-ulang-sandi/" in notice[0].body
        staff = session.scalars(select(Account).where(Account.role == Role.pmo_officer)).one()
        assert staff.display_name == "Petugas" and rules.verify_password(staff.password_hash, PASSWORD)


# --- sign-up limits: per e-mail and device, generous per network --------------------------------------------------


class TestSignUpLimits:
    def test_many_people_behind_one_address_can_sign_up(self, app: FastAPI, session: Session) -> None:
        for n in range(25):  # 25 browsers (devices), one shared address
            browser = TestClient(app, client=("203.0.113.7", 4000 + n))
            assert post_sign_up(browser, f"orang{n}@example.org", f"Orang {chr(65 + n)}").status_code == 303
        assert session.scalar(select(func.count()).select_from(Account)) == 25

    def test_one_device_cannot_hammer(self, client: TestClient, session: Session) -> None:
        for n in range(LIMITS["signup_device"].limit):
            post_sign_up(client, f"orang{n}@example.org", password="pendek")  # refused tries count too
        refused = post_sign_up(client, "lagi@example.org")
        assert refused.status_code == 429 and "Retry-After" in refused.headers
        assert session.scalar(select(func.count()).select_from(Account)) == 0

    def test_one_address_cannot_be_hammered_from_many_devices(self, app: FastAPI, session: Session) -> None:
        for n in range(LIMITS["signup_email"].limit):
            post_sign_up(TestClient(app, client=(f"198.51.100.{n + 1}", 5000)), "siti@example.org")
        refused = post_sign_up(TestClient(app, client=("203.0.113.9", 5000)), "siti@example.org")
        assert refused.status_code == 429
        assert len(messages(session, "siti@example.org")) == LIMITS["signup_email"].limit  # 1 link, 4 notices


# --- names without invisible characters ---------------------------------------------------------------------------


class TestNames:
    @pytest.mark.parametrize(
        "name",
        ["Budi\u202eartsinimdA", "Si\u200bti", "Siti\u200d", "\u2066Siti\u2069", "Siti\u00adRahma", "Siti\ufeff"],
    )
    def test_bidi_overrides_and_zero_width_characters_refused(
        self, client: TestClient, session: Session, name: str
    ) -> None:
        response = post_sign_up(client, "siti@example.org", name=name)
        assert response.status_code == 422 and 'id="name-error"' in response.text
        assert session.scalar(select(func.count()).select_from(Account)) == 0
