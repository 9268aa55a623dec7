"""The payment partner's portal through the app: each partner's people see their own batches, instructions (account
numbers masked), the results they reported (applied, or refused with the reason), statements and differences, and
nothing of another partner; the landing page leads there; other roles and unlinked accounts are handled."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.partners import service as partners
from prakerja.payouts.models import InstructionStatus, PayoutBatch, PayoutProvider, ProviderKind
from prakerja.payouts.service import reconciliation
from tests.payouts.recon_factory import (
    create_account_at,
    create_batch,
    create_instruction,
    create_provider,
    create_result,
)
from tests.web.test_shell import create_account, login

ADMIN = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000a1"), role="pmo_admin")
HOME = "/portal/mitra/pembayaran"


def member(session: Session, provider: PayoutProvider, email: str) -> None:
    create_account(session, email=email, role=Role.payment_partner, name="Staf " + email.split("@")[1])
    partners.add_member(session, partner_id=provider.partner_id, email=email, role="admin", actor=ADMIN)
    session.commit()


class World:
    def __init__(self, session: Session) -> None:
        self.bni = create_provider(session, code="bni", name="Bank Negara Uji")
        self.ovo = create_provider(session, code="ovo", kind=ProviderKind.ewallet, name="Dompet Uji")
        account = create_account_at(session, self.bni, number="1234567890")
        self.paid = create_instruction(session, self.bni, account=account)
        self.failed = create_instruction(session, self.bni, status=InstructionStatus.failed, amount=100_000)
        self.failed.failure_code = "account_closed"
        create_result(session, self.bni, self.paid)
        create_result(session, self.bni, self.paid, status="failed", applied=False, rejection="stale")
        ovo_account = create_account_at(session, self.ovo, number="081298765432")
        self.theirs = create_instruction(session, self.ovo, account=ovo_account, amount=250_000)
        create_result(session, self.ovo, self.theirs, applied=False, rejection="unknown_instruction")
        self.bni_batch = create_batch(session, self.bni)
        self.ovo_batch = create_batch(session, self.ovo)
        csv = (
            "statement_id,booked_on,end_to_end_id,amount,direction,reversal\n"
            f"BNI-20260302,2026-03-02,{self.paid.end_to_end_id},500000,debit,false\n#total,1,500000\n"
        )
        reconciliation.ingest_statement(session, provider_code="bni", content=csv.encode(), actor=ADMIN)
        session.commit()
        member(session, self.bni, "staf@bni.example")
        member(session, self.ovo, "staf@ovo.example")


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def test_a_partner_sees_its_own_payouts_and_nothing_of_another(
    client: TestClient, session: Session, world: World
) -> None:
    assert login(client, "staf@bni.example").status_code == 303
    html = client.get(HOME).text
    assert "Bank Negara Uji" in html and "Portal mitra pembayaran" in html
    assert world.bni_batch.message_id in html and world.ovo_batch.message_id not in html
    assert world.paid.end_to_end_id in html and world.theirs.end_to_end_id not in html
    assert "Diterapkan" in html and "Ditolak" in html and "stale" in html and "unknown_instruction" not in html
    assert "BNI-20260302" in html and "Jumlah berbeda" in html and "Rp500.000" in html
    assert "WIB" in html

    batch = client.get(f"{HOME}/batch/{world.bni_batch.id}")
    assert batch.status_code == 200
    assert "******7890" in batch.text and "1234567890" not in batch.text
    assert world.failed.end_to_end_id in batch.text and "account_closed" in batch.text
    assert world.theirs.end_to_end_id not in batch.text

    other = client.get(f"{HOME}/batch/{world.ovo_batch.id}")
    assert other.status_code == 404 and world.theirs.end_to_end_id not in other.text
    assert client.get(f"{HOME}/batch/not-a-batch").status_code == 404


def test_the_other_partner_sees_only_its_own(client: TestClient, session: Session, world: World) -> None:
    login(client, "staf@ovo.example")
    html = client.get(HOME).text
    assert "Dompet Uji" in html and world.theirs.end_to_end_id in html and "unknown_instruction" in html
    assert world.paid.end_to_end_id not in html and "BNI-20260302" not in html
    assert world.bni_batch.message_id not in html
    batch = client.get(f"{HOME}/batch/{world.ovo_batch.id}").text
    assert "********5432" in batch and "081298765432" not in batch
    assert client.get(f"{HOME}/batch/{world.bni_batch.id}").status_code == 404


def test_in_english(client: TestClient, session: Session, world: World) -> None:
    login(client, "staf@bni.example")
    client.get("/bahasa/en?next=/")
    html = client.get(HOME).text
    assert "Payment partner portal" in html and "Amount differs" in html and "Refused" in html


def test_the_landing_page_leads_there_and_others_are_kept_out(client: TestClient, session: Session) -> None:
    create_account(session, email="lepas@bank.example", role=Role.payment_partner, name="Lepas")
    login(client, "lepas@bank.example")
    landing = client.get("/portal/mitra").text
    assert f'href="{HOME}"' in landing
    unlinked = client.get(HOME)
    assert unlinked.status_code == 200 and "belum ditautkan" in unlinked.text
    client.cookies.clear()
    create_account(session, email="lembaga@example.org", role=Role.institution, name="Lembaga")
    login(client, "lembaga@example.org")
    assert client.get(HOME).status_code == 403


def test_a_partner_without_a_payout_service_yet(client: TestClient, session: Session) -> None:
    org = partners.create_partner(session, name="Bank Baru", role="payment_partner", actor=Actor.system())
    session.commit()
    create_account(session, email="staf@baru.example", role=Role.payment_partner, name="Staf Baru")
    partners.add_member(session, partner_id=org.id, email="staf@baru.example", role="admin", actor=ADMIN)
    session.commit()
    login(client, "staf@baru.example")
    html = client.get(HOME).text
    assert "Bank Baru" in html and 'data-testid="no-provider"' in html
    assert session.query(PayoutBatch).count() == 0
