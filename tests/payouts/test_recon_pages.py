"""The officers' reconciliation page through the app: statements and differences listed, a statement uploaded and
reconciled, refusals shown next to the form with nothing written, a difference resolved with a written reason
(audited), and only the program office gets in."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.payouts.models import Difference, PayoutInstruction, PayoutProvider
from tests.payouts.recon_factory import counts, create_instruction, create_provider
from tests.web.test_shell import create_account, csrf, login

PAGE = "/pmo/pembayaran/rekonsiliasi"


def statement(*lines: tuple[str, int], ref: str = "BNI-20260302", corrupt: bool = False) -> bytes:
    rows = ["statement_id,booked_on,end_to_end_id,amount,direction,reversal"]
    rows += [f"{ref},2026-03-02,{e2e},{amount},debit,false" for e2e, amount in lines]
    rows.append(f"#total,{len(lines)},{sum(a for _, a in lines) + (1 if corrupt else 0)}")
    return ("\n".join(rows) + "\n").encode()


@pytest.fixture
def bni(session: Session) -> PayoutProvider:
    provider = create_provider(session, code="bni", name="Bank Negara Uji")
    session.commit()
    return provider


@pytest.fixture
def officer(client: TestClient, session: Session) -> TestClient:
    create_account(session, email="petugas@pmo.example", role=Role.pmo_officer, name="Petugas")
    assert login(client, "petugas@pmo.example").status_code == 303
    return client


def upload(client: TestClient, content: bytes, provider: str = "bni"):  # type: ignore[no-untyped-def]
    token = csrf(client, PAGE)
    return client.post(
        PAGE,
        data={"csrf_token": token, "provider": provider, "day": ""},
        files={"file": ("statement.csv", content, "text/csv")},
    )


def test_upload_reconciles_and_lists_the_differences(
    officer: TestClient, session: Session, bni: PayoutProvider
) -> None:
    paid = create_instruction(session, bni)
    missing = create_instruction(session, bni, amount=100_000)
    session.commit()
    response = upload(officer, statement((paid.end_to_end_id, 600_000)))
    assert response.status_code == 200
    assert 'data-testid="ingested"' in response.text and "BNI-20260302" in response.text
    assert f'data-e2e="{missing.end_to_end_id}"' in response.text and "Tidak ada di rekening koran" in response.text
    assert "Selisih terbuka: 1" in response.text
    page = officer.get(PAGE).text
    assert "Rekonsiliasi pembayaran" in page and f'data-testid="resolve-{missing.end_to_end_id}"' in page


@pytest.mark.parametrize(
    ("content", "provider", "code_text"),
    [
        (statement(("PKJ1", 600_000), corrupt=True), "bni", "Jumlah kontrol rekening koran tidak cocok"),
        (b"<Document><Stmt>", "bni", "Berkas rekening koran tidak dapat dibaca."),
        (statement(("PKJ1", 600_000)), "bca", "Mitra pembayaran tidak dikenal."),
    ],
    ids=["control-sum", "malformed", "unknown-provider"],
)
def test_a_refused_upload_says_why_and_writes_nothing(
    officer: TestClient, session: Session, bni: PayoutProvider, content: bytes, provider: str, code_text: str
) -> None:
    before = counts(session)
    response = upload(officer, content, provider)
    assert response.status_code in {404, 422}
    assert code_text in response.text and 'data-testid="form-error"' in response.text
    assert counts(session) == before


def test_the_same_file_twice_is_refused(officer: TestClient, session: Session, bni: PayoutProvider) -> None:
    content = statement(("PKJ1", 600_000))
    assert upload(officer, content).status_code == 200
    before = counts(session)
    response = upload(officer, content)
    assert response.status_code == 409 and "sudah pernah dimasukkan" in response.text
    assert counts(session) == before


def test_resolve_with_a_reason_audited(officer: TestClient, session: Session, bni: PayoutProvider) -> None:
    short = create_instruction(session, bni)
    session.commit()
    upload(officer, statement((short.end_to_end_id, 550_000)))
    difference = session.scalars(select(Difference)).one()
    action = f"{PAGE}/selisih/{difference.id}"
    too_short = officer.post(action, data={"csrf_token": csrf(officer, PAGE), "reason": "ok"})
    assert too_short.status_code == 422 and f'id="reason-{difference.id}-error"' in too_short.text
    session.expire_all()
    assert session.get(Difference, difference.id).resolved_at is None  # type: ignore[union-attr]
    reason = "Biaya transfer 50.000 dipotong bank; surat klarifikasi BNI no. 7/2026."
    done = officer.post(action, data={"csrf_token": csrf(officer, PAGE), "reason": reason}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?resolved=1"
    page = officer.get(done.headers["location"]).text
    assert 'data-testid="resolved"' in page and "Diselesaikan" in page and re.search(r"Biaya transfer 50\.000", page)
    assert "Tidak ada selisih terbuka." in page
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.difference_resolved")).one()
    assert entry.reason == reason and entry.actor_role == "pmo_officer"
    session.expire_all()
    assert session.get(PayoutInstruction, short.id).amount == 600_000  # type: ignore[union-attr]
    again = officer.post(action, data={"csrf_token": csrf(officer, PAGE), "reason": reason})
    assert again.status_code == 409
    assert (
        officer.post(f"{PAGE}/selisih/nope", data={"csrf_token": csrf(officer, PAGE), "reason": reason}).status_code
        == 404
    )


def test_only_the_program_office(client: TestClient, session: Session) -> None:
    create_account(session, email="mitra@bank.example", role=Role.payment_partner, name="Mitra")
    login(client, "mitra@bank.example")
    assert client.get(PAGE).status_code == 403
    create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin")
    client.cookies.clear()
    login(client, "admin@pmo.example")
    assert client.get(PAGE).status_code == 200
    assert PAGE in client.get("/pmo").text
