from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role

PASSWORD = "kata-sandi-rahasia"


def create_account(
    session: Session,
    *,
    email: str = "siti@example.org",
    role: Role = Role.applicant,
    name: str = "Siti Rahmawati",
) -> None:
    auth.create_account(
        session, email=email, password=PASSWORD, role=role, display_name=name, created_by=Actor.system()
    )
    session.commit()


def csrf(client: TestClient, path: str = "/masuk") -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF field"
    return match.group(1)


def login(client: TestClient, email: str = "siti@example.org", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/masuk",
        data={"email": email, "password": password, "csrf_token": csrf(client)},
        follow_redirects=False,
    )


class TestHealth:
    def test_healthz(self, client: TestClient) -> None:
        assert client.get("/healthz").json() == {"status": "ok"}

    def test_readyz_database_and_migrations(self, client: TestClient) -> None:
        body = client.get("/readyz").json()
        assert body == {"status": "ok", "database": True, "migrations": "head"}

    def test_metrics(self, client: TestClient) -> None:
        client.get("/healthz")
        metrics = client.get("/metrics").text
        assert 'prakerja_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics

    def test_request_id_echoed_or_made(self, client: TestClient) -> None:
        assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
        assert re.fullmatch(r"[0-9a-f]{16}", client.get("/healthz").headers["X-Request-ID"])


class TestLanguage:
    def test_indonesian_by_default(self, client: TestClient) -> None:
        html = client.get("/", headers={"Accept-Language": "en-US,en"}).text
        assert '<html lang="id">' in html and "Masuk" in html and "Sign in" not in html

    def test_switch_to_english_and_back(self, client: TestClient) -> None:
        response = client.get("/bahasa/en?next=/", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/"
        html = client.get("/").text
        assert '<html lang="en">' in html and "Sign in" in html
        client.get("/bahasa/id?next=/")
        assert '<html lang="id">' in client.get("/").text

    def test_open_redirect_refused(self, client: TestClient) -> None:
        response = client.get("/bahasa/en?next=//evil.example", follow_redirects=False)
        assert response.headers["location"] == "/"


class TestErrors:
    def test_api_404_is_json(self, client: TestClient) -> None:
        response = client.get("/api/v1/nothing")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        assert response.json()["message_en"] == "Page not found."

    def test_page_404_is_a_page_in_indonesian(self, client: TestClient) -> None:
        response = client.get("/tidak-ada")
        assert response.status_code == 404
        assert "Halaman tidak ditemukan." in response.text and '<html lang="id">' in response.text


class TestSignIn:
    def test_csrf_required(self, client: TestClient, session: Session) -> None:
        create_account(session)
        response = client.post("/masuk", data={"email": "siti@example.org", "password": PASSWORD})
        assert response.status_code == 403 and "Formulir kedaluwarsa" in response.text

    def test_wrong_password_then_right(self, client: TestClient, session: Session) -> None:
        create_account(session)
        bad = client.post(
            "/masuk",
            data={"email": "siti@example.org", "password": "salah-salah-salah", "csrf_token": csrf(client)},
        )
        assert bad.status_code == 401 and "E-mail atau kata sandi salah." in bad.text
        good = login(client)
        assert good.status_code == 303 and good.headers["location"] == "/dasbor"
        cookie = good.headers["set-cookie"]
        assert "prakerja_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie

    def test_dashboard_frame_for_applicants(self, client: TestClient, session: Session) -> None:
        create_account(session)
        assert client.get("/dasbor", follow_redirects=False).status_code == 303
        login(client)
        html = client.get("/dasbor").text
        for title in (
            "Profil",
            "Status gelombang",
            "Kartu &amp; saldo",
            "Pelatihan",
            "Sertifikat",
            "Insentif",
            "Survei",
            "Pengaduan",
        ):
            assert f">{title}</h2>" in html

    def test_role_checked(self, client: TestClient, session: Session) -> None:
        create_account(session, email="lp@example.org", role=Role.institution, name="LP")
        login(client, "lp@example.org")
        assert client.get("/dasbor").status_code == 403
        assert client.get("/pmo").status_code == 403

    def test_pmo_console(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        assert login(client, "admin@example.org").headers["location"] == "/pmo"
        assert "Manajemen Pelaksana" in client.get("/pmo").text

    def test_logout_ends_session(self, client: TestClient, session: Session) -> None:
        create_account(session)
        login(client)
        client.post("/keluar", data={"csrf_token": csrf(client, "/dasbor")})
        assert client.get("/dasbor", follow_redirects=False).status_code == 303


def test_personal_fields_not_stored_in_plaintext(session: Session) -> None:
    create_account(session, email="rahasia.sekali@example.org", name="Nama Sangat Rahasia")
    raw = session.execute(text("SELECT email::text, display_name::text, encode(email, 'escape') FROM auth_accounts"))
    for row in raw:
        for column in row:
            assert "rahasia.sekali" not in column and "Sangat Rahasia" not in column


@pytest.mark.parametrize(
    "template_dir",
    [
        "web",
        "auth",
        "audit",
        "catalog",
        "notifications",
        "ledger",
        "partners",
        "payouts",
        "portals",
        "registration",
        "selection",
        "training",
        "waves",
    ],
)
def test_every_template_string_is_translated(template_dir: str) -> None:
    from pathlib import Path

    from prakerja.web.i18n import translations

    root = Path(__file__).resolve().parents[2] / "src" / "prakerja" / template_dir / "templates"
    catalogue = translations("id")
    missing = []
    for path in root.rglob("*.html"):
        for msg in re.findall(r"""_\(\s*["']([^"']+)["']\s*\)""", path.read_text()):
            if catalogue.gettext(msg) == msg and msg not in {"Prakerja", "Kartu Prakerja", "E-mail"}:
                missing.append(f"{path.name}: {msg}")
    assert missing == []


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(["l", "a", "n", "g", "%", "=", "&", ";", "+", "6", "C", "c", "1", "x", "L"]), max_size=14)
)
def test_a_query_not_parsed_for_its_language_holds_none(parts: list[str]) -> None:
    """The shell middleware parses a query for ``lang`` only when its raw bytes could name it (ADR 0042)."""
    from starlette.datastructures import QueryParams

    from prakerja.web.middleware import _may_name_lang

    raw = "".join(parts).encode()
    if not _may_name_lang(raw):
        assert QueryParams(raw.decode("latin-1")).get("lang") is None
    assert _may_name_lang(b"n=1&lang=en") and _may_name_lang(b"%6Cang=en") and not _may_name_lang(b"n=abc")
