"""Partner abuse logged for review: every kind of refusal of every signed endpoint (bad signature, stale
timestamp, replay, unknown client, malformed body, role, business rule) writes exactly one row of the refusal log
and nothing else (the replay window and the per-minute counter are the signed API's own bookkeeping), with no
secret and no body; a body that cannot be read is 400 ``malformed_body`` on every POST and PUT (contract
section 3), after the signature; officers read the log and mark it reviewed (audited)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.app import create_app
from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.kit.orm import Base
from prakerja.partners.models import PartnerRefusal
from tests.catalog.conftest import BODY
from tests.partners.conftest import Partner, SignedClient, create_partner
from tests.web.test_shell import PASSWORD, csrf, login

BOOKKEEPING = {"partner_refusals", "partner_seen_signatures", "partner_rate_windows"}


def tick() -> None:
    clock.advance(timedelta(seconds=1))


def snapshot(session: Session) -> dict[str, int]:
    """Rows in every table but the refusal log and the signed API's bookkeeping."""
    session.rollback()
    return {
        table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
        for table in Base.metadata.sorted_tables
        if table.name not in BOOKKEEPING
    }


def refusals(session: Session) -> list[PartnerRefusal]:
    session.rollback()
    return list(session.scalars(select(PartnerRefusal).order_by(PartnerRefusal.id)))


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"code", "message", "message_en", "details"}
    assert payload["code"] == code, payload


@pytest.fixture
def platform(session: Session) -> Partner:
    return create_partner(session, name="Platform Satu", role="platform")


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name="Lembaga Satu", role="institution")


class TestEveryRefusalIsLoggedOnce:
    @pytest.mark.parametrize(
        ("kind", "status", "code"),
        [
            ("missing_signature", 401, "missing_signature"),
            ("stale_timestamp", 401, "stale_timestamp"),
            ("bad_signature", 401, "bad_signature"),
            ("unknown_client", 401, "unknown_client"),
            ("no_idempotency_key", 400, "idempotency_key_required"),
            ("malformed_json", 400, "malformed_body"),
            ("wrong_content_type", 400, "malformed_body"),
            ("schema_invalid", 422, "invalid_request"),
            ("role", 403, "partner_role_forbidden"),
            ("business", 404, "course_not_found"),
        ],
    )
    def test_one_row_and_no_other_write(
        self,
        signed_client: SignedClient,
        session: Session,
        platform: Partner,
        institution: Partner,
        kind: str,
        status: int,
        code: str,
    ) -> None:
        before = snapshot(session)
        path, method = f"/partner/v1/listings/{uuid.uuid4()}", "PUT"
        kw: dict[str, Any] = {"json": {"url": "https://platform.example/k/1", "price": 1000}}
        partner, extra = platform, {}
        if kind == "missing_signature":
            extra = {"omit": ("signature",)}
        elif kind == "stale_timestamp":
            extra = {"timestamp": int(clock.now().timestamp()) - 301}
        elif kind == "bad_signature":
            extra = {"secret": "not-the-key"}
        elif kind == "unknown_client":
            partner = Partner(None, "tidak-dikenal", None, "x")
        elif kind == "malformed_json":
            kw = {
                "content": b'{"url": "https://platform.example/k/1", "price": ',
                "headers": {"content-type": "application/json"},
            }
        elif kind == "wrong_content_type":
            kw = {
                "content": b'{"url": "https://platform.example/k/1", "price": 1000}',
                "headers": {"content-type": "text/plain"},
            }
        elif kind == "schema_invalid":
            kw = {"json": {"url": "https://platform.example/k/1", "price": "seribu"}}
        elif kind == "role":
            partner = institution
        tick()
        key = None if kind == "no_idempotency_key" else f"k-{kind}"
        response, sent = signed_client.request(method, path, partner, idempotency_key=key, **kw, **extra)
        assert_error(response, status, code)
        assert snapshot(session) == before
        rows = refusals(session)
        assert len(rows) == 1
        row = rows[0]
        assert (row.method, row.endpoint, row.code, row.status) == (
            method,
            "/partner/v1/listings/{course_id}",
            code,
            status,
        )
        assert row.client_code == partner.client_code
        signed = kind in (
            "no_idempotency_key",
            "malformed_json",
            "wrong_content_type",
            "schema_invalid",
            "role",
            "business",
        )
        assert row.signed is signed
        # the claimed credential's organisation is named; an unknown client is nobody's
        assert row.partner_id == (None if kind == "unknown_client" else partner.partner_id)
        assert row.reviewed_at is None and row.remote == "127.0.0.1"
        # nothing secret and no body in the row
        values = " ".join(str(getattr(row, c.key)) for c in PartnerRefusal.__table__.columns)
        assert sent.headers.get("signature", "") not in values or not sent.headers.get("signature")
        assert partner.secret not in values and "platform.example" not in values

    def test_a_replay_is_logged(self, signed_client: SignedClient, session: Session, platform: Partner) -> None:
        tick()
        first, sent = signed_client.request("GET", "/partner/v1/ping", platform)
        assert first.status_code == 200
        before = snapshot(session)
        assert_error(signed_client.send(sent), 401, "replayed_request")
        assert snapshot(session) == before
        [row] = refusals(session)
        assert (row.method, row.endpoint, row.code, row.signed) == ("GET", "/partner/v1/ping", "replayed_request", True)

    def test_a_marketplace_business_refusal_is_logged_by_the_partner_api(
        self, signed_client: SignedClient, session: Session, platform: Partner
    ) -> None:
        tick()
        response, _ = signed_client.request(
            "POST", "/partner/v1/cards/inquiry", platform, idempotency_key="i-1", json={"card_number": "1" * 16}
        )
        assert_error(response, 404, "card_not_found")
        [row] = refusals(session)
        assert (row.endpoint, row.code, row.partner_id) == (
            "/partner/v1/cards/inquiry",
            "card_not_found",
            platform.partner_id,
        )


def _partner_writes() -> list[tuple[str, str]]:
    """Every POST and PUT of the signed API, with its path parameters filled in."""
    paths = create_app().openapi()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", str(uuid.UUID(int=7)), path))
        for path, operations in paths.items()
        if path.startswith("/partner/v1")
        for method in sorted(operations)
        if method in ("post", "put")
    ]


WRITES = _partner_writes()
ROLES = [
    ("/partner/v1/exclusion-lists", "ministry"),
    ("/partner/v1/listings", "platform"),
    ("/partner/v1/cards", "platform"),
    ("/partner/v1/purchases", "platform"),
    ("/partner/v1/", "institution"),
]
"""Who may call each write (the body is read after the role is checked)."""


class TestMalformedBodies:
    def test_every_write_is_covered(self) -> None:
        paths = {path for _method, path in WRITES}
        assert "/partner/v1/courses" in paths and "/partner/v1/exclusion-lists/imports" in paths
        assert "/partner/v1/completions" in paths and len(WRITES) >= 12

    @pytest.mark.parametrize(("method", "path"), WRITES)
    def test_unparseable_body_is_400_with_the_contract_shape(
        self, signed_client: SignedClient, session: Session, method: str, path: str
    ) -> None:
        role = next(role for prefix, role in ROLES if path.startswith(prefix))
        partner = create_partner(session, name=f"Mitra {role}", role=role)
        before = snapshot(session)
        tick()
        response, _ = signed_client.request(
            method,
            path,
            partner,
            idempotency_key="m-1",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert_error(response, 400, "malformed_body")
        assert response.json()["details"]["reason"] in ("json_invalid", "content_type", "form_invalid")
        assert snapshot(session) == before
        assert [(r.code, r.status, r.signed) for r in refusals(session)] == [("malformed_body", 400, True)]

    @pytest.mark.parametrize(
        ("content", "content_type", "reason"),
        [
            (b"[" * 100_000, "application/json", "json_invalid"),
            (b'{"card_number": "\xff\xfe"}', "application/json", "json_invalid"),
            (b"", "application/json", "json_invalid"),
            (b'{"card_number": "1234567890123456"}', "text/plain", "content_type"),
            (b'{"card_number": "1234567890123456"}', "", "content_type"),
        ],
        ids=["deep_nesting", "not_utf8", "empty", "text_plain", "no_content_type"],  # not 100,000 brackets
    )
    def test_what_cannot_be_read(
        self, signed_client: SignedClient, platform: Partner, content: bytes, content_type: str, reason: str
    ) -> None:
        tick()
        headers = {"content-type": content_type} if content_type else {}
        response, sent = signed_client.request(
            "POST", "/partner/v1/cards/inquiry", platform, idempotency_key="r", content=content, headers=headers
        )
        if not content_type:
            assert "content-type" not in sent.headers
        assert_error(response, 400, "malformed_body")
        assert response.json()["details"] == {"reason": reason}

    def test_json_breaking_the_schema_stays_422(
        self, signed_client: SignedClient, session: Session, institution: Partner
    ) -> None:
        tick()
        data = {k: v for k, v in BODY.items() if k != "title"}
        response, _ = signed_client.request("POST", "/partner/v1/courses", institution, idempotency_key="c", json=data)
        assert_error(response, 422, "invalid_request")

    def test_a_broken_form_is_400(self, signed_client: SignedClient, session: Session) -> None:
        ministry = create_partner(session)
        tick()
        response, _ = signed_client.request(
            "POST",
            "/partner/v1/exclusion-lists/imports",
            ministry,
            idempotency_key="f",
            content=b"--zzz\r\nnot a part",
            headers={"content-type": "multipart/form-data; boundary=zzz"},
        )
        assert_error(response, 400, "malformed_body")

    def test_unsigned_and_malformed_is_401_not_400(self, signed_client: SignedClient, platform: Partner) -> None:
        tick()
        response, _ = signed_client.request(
            "POST",
            "/partner/v1/cards/inquiry",
            platform,
            secret="wrong",
            idempotency_key="u",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert_error(response, 401, "bad_signature")


class TestOfficerReview:
    def test_officer_reads_and_marks_reviewed_audited(self, client: TestClient, session: Session) -> None:
        platform = create_partner(session, name="Platform Dua", role="platform")
        response = client.get(
            "/partner/v1/ping", headers={"client_code": platform.client_code, "timestamp": "1", "signature": "00"}
        )
        assert response.status_code == 401
        client.get("/partner/v1/ping", headers={"client_code": "siapa-ini", "timestamp": "1", "signature": "00"})
        auth.create_account(
            session,
            email="petugas@example.org",
            password=PASSWORD,
            role=Role.pmo_officer,
            display_name="Petugas",
            created_by=Actor.system(),
        )
        session.commit()
        assert login(client, "petugas@example.org").status_code == 303
        assert "/pmo/penolakan-mitra" in client.get("/pmo").text
        page = client.get("/pmo/penolakan-mitra")
        assert page.status_code == 200
        assert "Panggilan mitra yang ditolak" in page.text and "Platform Dua" in page.text
        assert "stale_timestamp" in page.text and "siapa-ini" in page.text
        assert "Timestamp permintaan lebih dari 300 detik dari waktu server.<br>" in page.text  # each code in words
        assert page.text.count('data-testid="refusal"') == 2
        ids = [str(r.id) for r in refusals(session)]
        token = csrf(client, "/pmo/penolakan-mitra")
        done = client.post(
            "/pmo/penolakan-mitra/tinjau",
            data={"csrf_token": token, "up_to": ids[-1], "down_to": ids[0], "note": "diperiksa"},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert all(r.reviewed_at is not None for r in refusals(session))
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "partners.refusals_reviewed")).one()
        assert entry.reason == "diperiksa" and entry.data["count"] == 2
        assert client.get("/pmo/penolakan-mitra").text.count('data-testid="refusal"') == 0
        assert client.get("/pmo/penolakan-mitra?semua=1").text.count('data-testid="refusal"') == 2
        # the marketplace's old address leads here
        assert (
            client.get("/pmo/pelatihan/penolakan", follow_redirects=False).headers["location"] == "/pmo/penolakan-mitra"
        )

    def test_applicants_and_partners_may_not_read_it(self, client: TestClient) -> None:
        assert client.get("/pmo/penolakan-mitra", follow_redirects=False).status_code in (303, 401)


def test_migration_copies_the_marketplace_log(session: Session) -> None:
    """The rows the marketplace logged before (0021 copies them): the statement the migration runs, on data."""
    partner = create_partner(session, name="Platform Lama", role="platform")
    session.execute(
        text(
            "INSERT INTO training_partner_refusals (id, created_at, partner_id, credential_id, endpoint, code, status)"
            " SELECT gen_random_uuid(), now(), :p, c.id, 'POST /partner/v1/purchases', 'otp_invalid', 422"
            " FROM auth_partner_credentials c WHERE c.partner_id = :p"
        ),
        {"p": partner.partner_id},
    )
    migration = (Path(__file__).parents[2] / "migrations" / "versions" / "0021_mportal.py").read_text()
    sql = migration.split('op.execute(\n        """')[1].split('"""')[0]
    session.execute(text(sql))
    [row] = list(session.scalars(select(PartnerRefusal)))
    assert (row.method, row.endpoint, row.client_code, row.signed) == (
        "POST",
        "/partner/v1/purchases",
        partner.client_code,
        True,
    )
    session.rollback()


def test_rows_past_the_retention_are_purged_and_the_purge_is_audited(client: TestClient, session: Session) -> None:
    from prakerja.partners import service as partners

    def refused_call() -> None:
        response = client.get("/partner/v1/ping", headers={"client_code": "siapa", "timestamp": "1", "signature": "00"})
        assert response.status_code == 401

    clock.freeze(clock.now())
    refused_call()
    clock.advance(timedelta(days=300))
    refused_call()
    clock.advance(timedelta(days=66))  # the first is 366 days old, the second 66 (retention: 365 days)
    assert len(refusals(session)) == 2
    assert partners.purge_old_refusals(session) == 1
    session.commit()
    left = refusals(session)
    assert len(left) == 1 and left[0].created_at > clock.now() - timedelta(days=67)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "partners.refusals_purged")).one()
    assert entry.data["count"] == 1 and entry.data["unreviewed"] == 1 and entry.data["retention_days"] == 365
    assert partners.purge_old_refusals(session) == 0  # nothing more, and no second entry
    session.commit()
    assert session.scalar(select(func.count()).where(AuditEntry.action == "partners.refusals_purged")) == 1
