"""Security headers, production-only exposure, redirects, 405s and bad input that used to reach the database."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.config import get_settings
from prakerja.ledger.models import LedgerAccount
from prakerja.registration.models import ListImport
from tests.web.test_shell import create_account, login

ADMIN = "admin@example.org"


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The cached settings switched to production (secrets stay those of the test environment)."""
    settings = get_settings()
    monkeypatch.setattr(settings, "env", "production")
    monkeypatch.setattr(settings, "metrics_token", "metrics-token-0123456789abcdef")
    yield


@pytest.fixture
def prod_client(clean_db: object, production: None) -> Iterator[TestClient]:
    from prakerja.app import create_app

    with TestClient(create_app(), base_url="https://testserver") as c:
        yield c


def admin_client(client: TestClient, session: Session) -> TestClient:
    create_account(session, email=ADMIN, role=Role.pmo_admin, name="Admin")
    login(client, ADMIN)
    return client


class TestHeaders:
    def test_pages_have_a_strict_content_security_policy(self, client: TestClient) -> None:
        for path in ("/", "/masuk", "/healthz", "/api/v1/waves"):
            policy = client.get(path).headers.get("content-security-policy", "")
            assert "default-src 'self'" in policy, path
            assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
            script = re.search(r"script-src ([^;]*)", policy)
            assert script and "'unsafe-inline'" not in script.group(1) and "'unsafe-eval'" not in script.group(1)

    def test_page_markup_has_no_inline_script_or_style(self, client: TestClient) -> None:
        for path in ("/", "/masuk"):
            html = client.get(path).text
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
            assert "<style" not in html and " style=" not in html and not re.search(r" on[a-z]+=", html)

    def test_hsts_only_in_production(self, client: TestClient, prod_client: TestClient) -> None:
        assert "strict-transport-security" not in client.get("/healthz").headers
        hsts = prod_client.get("/healthz").headers["strict-transport-security"]
        assert hsts.startswith("max-age=") and int(hsts.split("=")[1].split(";")[0]) >= 31536000

    def test_405_names_the_allowed_methods(self, client: TestClient) -> None:
        response = client.delete("/api/v1/waves")
        assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
        assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "POST"}
        page = client.put("/masuk")
        assert page.status_code == 405 and {"GET", "POST"} <= {m.strip() for m in page.headers["allow"].split(",")}

    def test_slash_redirect_ignores_the_host_header(self, client: TestClient) -> None:
        response = client.get("/api/v1/waves/", headers={"host": "evil.example"}, follow_redirects=False)
        assert response.status_code in (307, 308)
        location = response.headers["location"]
        assert "evil.example" not in location
        assert location == "/api/v1/waves" or location.startswith(get_settings().public_base_url)


class TestProductionExposure:
    @pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json"])
    def test_anonymous_gets_nothing(self, prod_client: TestClient, path: str) -> None:
        response = prod_client.get(path, follow_redirects=False)
        if path in ("/docs", "/redoc"):  # pages: to the sign-in page
            assert response.status_code == 303 and response.headers["location"].startswith("/masuk"), path
        else:
            assert response.status_code == 401 and response.json()["code"] == "unauthenticated", path
        assert "prakerja_http_requests_total" not in response.text and "openapi" not in response.text.lower()

    def test_applicant_gets_no_docs(self, prod_client: TestClient, session: Session) -> None:
        create_account(session)
        login(prod_client)
        assert prod_client.get("/openapi.json").status_code == 403
        assert prod_client.get("/metrics").status_code == 403

    def test_officer_and_metrics_token(self, prod_client: TestClient, session: Session) -> None:
        admin_client(prod_client, session)
        assert prod_client.get("/openapi.json").json()["info"]["title"] == "prakerja"
        assert prod_client.get("/docs").status_code == 200
        assert "prakerja_http_requests_total" in prod_client.get("/metrics").text
        prod_client.cookies.clear()
        token = {"authorization": "Bearer metrics-token-0123456789abcdef"}
        assert prod_client.get("/metrics", headers=token).status_code == 200
        assert prod_client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 401

    def test_development_keeps_them_open(self, client: TestClient) -> None:
        assert client.get("/openapi.json").status_code == 200
        assert client.get("/metrics").status_code == 200


class TestBadInputIsRefusedNot500:
    def test_nul_in_path_query_and_json(self, client: TestClient, session: Session) -> None:
        admin_client(client, session)
        for response in (
            client.get("/tes/%00"),
            client.get("/api/v1/ledger/totals/a%00b/2026"),
            client.get("/api/v1/waves", params={"x": "a\x00"}),
            client.post(
                "/api/v1/ledger/accounts",
                json={"ledger": 1, "kind": "training_wallet", "owner_type": "participant", "owner_id": "a\x00b"},
            ),
        ):
            assert response.status_code == 400, (response.request.url, response.text)
            assert response.headers["content-type"].startswith(("application/json", "text/html"))
        assert client.get("/api/v1/ledger/totals/a%00b/2026").json()["code"] == "nul_character"
        assert session.scalar(select(func.count()).select_from(LedgerAccount)) == 0

    def test_nul_in_multipart_text_field(self, client: TestClient, session: Session) -> None:
        admin_client(client, session)
        response = client.post(
            "/api/v1/exclusion-lists/imports",
            data={"list_type": "polri", "source": "Po\x00lri", "as_of": "2026-02-01"},
            files={"file": ("p.csv", b"nik\n3201011505900001\n", "text/csv")},
            headers={"x-csrf-token": client.cookies.get("prakerja_csrf") or ""},
        )
        assert response.status_code == 400 and response.json()["code"] == "nul_character"
        assert session.scalar(select(func.count()).select_from(ListImport)) == 0

    def test_integers_past_the_column_type(self, client: TestClient, session: Session) -> None:
        admin_client(client, session)
        totals = client.get("/api/v1/ledger/totals/x/2147483648")
        assert totals.status_code == 422 and totals.json()["code"] == "invalid_request"
        wave = client.post(
            "/api/v1/waves",
            json={
                "title": "Gelombang besar",
                "scheme": "prakerja-2026",
                "opens_at": "2026-04-01T00:00:00Z",
                "closes_at": "2026-04-05T00:00:00Z",
                "total_quota": 10,
                "number": 2**31,
            },
            headers={"x-csrf-token": client.cookies.get("prakerja_csrf") or ""},
        )
        assert wave.status_code == 422, wave.text
        quota = client.post(
            "/api/v1/waves",
            json={
                "title": "Gelombang besar",
                "scheme": "prakerja-2026",
                "opens_at": "2026-04-01T00:00:00Z",
                "closes_at": "2026-04-05T00:00:00Z",
                "total_quota": 2**31,
            },
            headers={"x-csrf-token": client.cookies.get("prakerja_csrf") or ""},
        )
        assert quota.status_code == 422, quota.text

    def test_csv_field_past_the_parser_limit(self, client: TestClient, session: Session) -> None:
        admin_client(client, session)
        data = b"nik\n3201011505900001\n" + b'"' + b"9" * 131_073 + b'"\n'
        response = client.post(
            "/api/v1/exclusion-lists/imports",
            data={"list_type": "polri", "source": "Polri", "as_of": "2026-02-01"},
            files={"file": ("p.csv", io.BytesIO(data), "text/csv")},
            headers={"x-csrf-token": client.cookies.get("prakerja_csrf") or ""},
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "list_file_invalid"
        assert session.scalar(select(func.count()).select_from(ListImport)) == 0


def test_documentation_pages_allow_only_their_own_inline_scripts(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        response = client.get(path)
        assert response.status_code == 200
        script = re.search(r"script-src ([^;]*)", response.headers["content-security-policy"])
        assert script and "'unsafe-inline'" not in script.group(1), path
        inline = re.findall(r"<script>", response.text)
        assert script.group(1).count("'sha256-") == len(inline), path
