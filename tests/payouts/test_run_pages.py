"""The officers' payout runs page: runs with per-partner batches and control totals; an audited manual start."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.kit.money import format_rupiah
from tests.payouts.conftest import PaymentsSim
from tests.payouts.run_factories import AMOUNT, DUE
from tests.payouts.test_run_paying import participants
from tests.web.test_shell import create_account, csrf, login


def sign_in(client: TestClient, session: Session, role: Role) -> None:
    email = f"{role.value}@example.org"
    create_account(session, email=email, role=role, name=f"Demo {role.value}")
    assert login(client, email).status_code == 303


def test_an_administrator_starts_a_run_and_officers_see_its_batches(
    client: TestClient, session: Session, payments_sim: PaymentsSim
) -> None:
    participants(session, payments_sim, {"bni": 2, "ovo": 1})
    sign_in(client, session, Role.pmo_admin)
    page = client.get("/pmo/pembayaran")
    assert page.status_code == 200 and "Belum ada putaran pembayaran" in page.text
    started = client.post(
        "/pmo/pembayaran", data={"run_date": DUE.isoformat(), "csrf_token": csrf(client)}, follow_redirects=False
    )
    assert started.status_code == 303
    detail = client.get(started.headers["location"])
    assert detail.status_code == 200
    assert 'data-testid="batch-bni"' in detail.text and 'data-testid="batch-ovo"' in detail.text
    assert format_rupiah(2 * AMOUNT) in detail.text
    listing = client.get("/pmo/pembayaran")
    assert f'data-testid="run-{DUE.isoformat()}"' in listing.text and format_rupiah(3 * AMOUNT) in listing.text
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.run_started")).one()
    assert entry.actor_role == "pmo_admin"
    jobs = session.execute(
        text("SELECT args->>'run_id' FROM procrastinate_jobs WHERE task_name = 'payouts.execute_run'")
    )
    assert [row[0] for row in jobs] == [started.headers["location"].rsplit("/", 1)[1]]


def test_an_officer_sees_runs_but_cannot_start_one(client: TestClient, session: Session) -> None:
    sign_in(client, session, Role.pmo_officer)
    assert client.get("/pmo/pembayaran").status_code == 200
    refused = client.post("/pmo/pembayaran", data={"run_date": DUE.isoformat(), "csrf_token": csrf(client)})
    assert refused.status_code == 403
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.run_started")).all() == []


def test_a_bad_date_is_refused_and_starts_nothing(client: TestClient, session: Session) -> None:
    sign_in(client, session, Role.pmo_admin)
    refused = client.post("/pmo/pembayaran", data={"run_date": "2026-13-45", "csrf_token": csrf(client)})
    assert refused.status_code in (400, 422)
    assert session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.run_started")).all() == []
