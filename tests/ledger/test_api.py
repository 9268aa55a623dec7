"""The JSON API (PMO roles, Idempotency-Key on money-moving POSTs) and the participant's balance page."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from prakerja.auth.models import Account as AuthAccount
from prakerja.auth.models import Role
from prakerja.kit.clock import JAKARTA
from prakerja.kit.idempotency import lock_id
from prakerja.kit.ids import new_id
from prakerja.ledger import service
from prakerja.ledger.schemas import TransferCreate
from tests.ledger.conftest import OFFICER, SCHEME, YEAR, allocate
from tests.ledger.test_service import snapshot
from tests.registration.factories import create_applicant
from tests.web.test_shell import create_account, login


def admin(client: TestClient, session: Session) -> uuid.UUID:
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    login(client, "admin@example.org")
    return session.execute(text("SELECT id FROM auth_accounts")).scalar_one()


def fund(client: TestClient, participant: uuid.UUID, key: str, **body: Any) -> Any:
    payload = {"transfer_id": str(new_id()), "scheme": SCHEME, "year": YEAR, **body}
    return client.post(f"/api/v1/ledger/wallets/{participant}/fund", json=payload, headers={"Idempotency-Key": key})


class TestIdempotency:
    def test_replay_returns_the_first_response(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        allocate(session)
        session.commit()
        participant = new_id()
        body = {"transfer_id": str(new_id()), "scheme": SCHEME, "year": YEAR}
        url = f"/api/v1/ledger/wallets/{participant}/fund"
        first = client.post(url, json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
        again = client.post(url, json=body, headers={"Idempotency-Key": "k-1"})
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        wallet = client.get(f"/api/v1/ledger/wallets/{participant}").json()
        assert wallet["balance"] == 3_500_000

    def test_same_key_other_request(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        allocate(session)
        session.commit()
        assert fund(client, new_id(), "k-2").status_code == 201
        before = snapshot(session)
        response = fund(client, new_id(), "k-2")
        assert response.status_code == 422 and response.json()["code"] == "idempotency_key_mismatch"
        assert snapshot(session) == before

    def test_key_in_use(self, client: TestClient, session: Session, engine: Engine) -> None:
        account_id = admin(client, session)
        allocate(session)
        session.commit()
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id(f"account:{account_id}", "k-3")})
                held.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        held.wait(10)
        try:
            response = fund(client, new_id(), "k-3")
        finally:
            release.set()
            thread.join()
        assert response.status_code == 409 and response.json()["code"] == "idempotency_key_in_use"

    def test_key_required(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        response = client.post(
            f"/api/v1/ledger/wallets/{new_id()}/fund",
            json={"transfer_id": str(new_id()), "scheme": SCHEME, "year": YEAR},
        )
        assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"


class TestBadInput:
    def test_amounts(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        allocate(session)
        session.commit()
        before = snapshot(session)
        for index, amount in enumerate([0, -1, 1.5, "100", True]):
            response = fund(client, new_id(), f"bad-{index}", amount=amount)
            assert response.status_code == 422, amount
            assert response.json()["code"] == "amount_invalid"
        assert snapshot(session) == before

    def test_transfer_errors(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        allocate(session)
        wallet = service.wallet(session, new_id()) or service.training_wallet(session, new_id())
        budget = service.state_budget(session, scheme=SCHEME, year=YEAR, ledger=1)  # type: ignore[arg-type]
        cash = service.incentive_payable(session, new_id())
        closed = service.training_wallet(session, new_id())
        service.close_account(session, closed.id, actor=OFFICER, reason="tutup")
        pending = service.create_transfers(
            session,
            [
                TransferCreate(
                    id=new_id(),
                    debit_account_id=budget.id,
                    credit_account_id=wallet.id,
                    amount=5,
                    code="adjustment",
                    mode="pending",
                )
            ],  # type: ignore[arg-type]
        )[0]
        service.create_transfers(
            session,
            [TransferCreate(id=new_id(), pending_id=pending.id, code="adjustment", mode="void_pending")],  # type: ignore[arg-type]
        )
        session.commit()
        before = snapshot(session)
        cases = [
            ({"debit_account_id": str(budget.id), "credit_account_id": str(new_id())}, 404, "account_not_found"),
            ({"debit_account_id": str(wallet.id), "credit_account_id": str(budget.id)}, 409, "insufficient_funds"),
            ({"debit_account_id": str(wallet.id), "credit_account_id": str(wallet.id)}, 400, "same_account"),
            ({"debit_account_id": str(budget.id), "credit_account_id": str(cash.id)}, 400, "ledger_mismatch"),
            ({"debit_account_id": str(budget.id), "credit_account_id": str(closed.id)}, 409, "account_closed"),
            ({"pending_id": str(pending.id), "mode": "post_pending", "amount": None}, 409, "pending_already_voided"),
        ]
        for index, (fields, status, code) in enumerate(cases):
            body = {"transfers": [{"id": str(new_id()), "amount": 10, "code": "adjustment", **fields}]}
            response = client.post("/api/v1/ledger/transfers", json=body, headers={"Idempotency-Key": f"t-{index}"})
            assert (response.status_code, response.json()["code"]) == (status, code)
        assert snapshot(session) == before

    def test_officer_cannot_post_raw_transfers_and_applicants_see_nothing(
        self, client: TestClient, session: Session
    ) -> None:
        create_account(session, email="p@example.org", role=Role.pmo_officer, name="Petugas")
        login(client, "p@example.org")
        response = client.post("/api/v1/ledger/transfers", json={"transfers": []}, headers={"Idempotency-Key": "x"})
        assert response.status_code in (403, 422)
        assert client.get("/api/v1/ledger/totals/2023-normal/2026").status_code == 200


def test_transfer_audited_and_history(client: TestClient, session: Session) -> None:
    admin(client, session)
    allocate(session)
    wallet = service.training_wallet(session, new_id())
    budget = service.state_budget(session, scheme=SCHEME, year=YEAR, ledger=1)  # type: ignore[arg-type]
    session.commit()
    body = {
        "transfers": [
            {
                "id": str(new_id()),
                "debit_account_id": str(budget.id),
                "credit_account_id": str(wallet.id),
                "amount": 5_000,
                "code": "adjustment",
            }
        ],
        "reason": "koreksi",
    }
    response = client.post("/api/v1/ledger/transfers", json=body, headers={"Idempotency-Key": "audit-1"})
    assert response.status_code == 201
    history = client.get(f"/api/v1/ledger/accounts/{wallet.id}/history").json()
    assert history[0]["running_balance"] == 5_000
    actions = session.execute(
        text(
            "SELECT e.action, e.reason FROM audit_entries e JOIN audit_links l ON l.entry_id = e.id"
            " ORDER BY l.seq DESC LIMIT 1"
        )
    ).one()
    assert tuple(actions) == ("ledger.transfer_created", "koreksi")


class TestParticipantPage:
    def test_balance_and_history_in_indonesian(self, client: TestClient, session: Session) -> None:
        create_account(session)
        account_id = session.execute(text("SELECT id FROM auth_accounts")).scalar_one()
        participant = create_applicant(session, account_id=account_id).applicant_id  # wallets belong to the person
        allocate(session)
        service.fund_wallet(
            session, transfer_id=new_id(), participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER
        )
        session.commit()
        login(client)
        html = client.get("/dasbor/saldo").text
        assert "Saldo tersedia" in html and "Rp3.500.000" in html and "Saldo pelatihan diterima" in html
        when = session.execute(text("SELECT max(created_at) FROM ledger_transfers")).scalar_one().astimezone(JAKARTA)
        assert f"{when:%d-%m-%Y %H:%M} WIB" in html  # the history's time in Jakarta time, with its zone
        dashboard = client.get("/dasbor").text
        assert "Saldo pelatihan: Rp3.500.000" in dashboard

    def test_no_wallet_yet(self, client: TestClient, session: Session) -> None:
        create_account(session)
        login(client)
        assert "Anda belum memiliki saldo pelatihan" in client.get("/dasbor/saldo").text

    def test_only_applicants(self, client: TestClient, session: Session) -> None:
        create_account(session, email="lp@example.org", role=Role.institution, name="LP")
        login(client, "lp@example.org")
        assert client.get("/dasbor/saldo").status_code == 403
        assert session.query(AuthAccount).count() == 1


class TestIdempotencyBytes:
    def test_replay_is_the_first_response_byte_for_byte(self, client: TestClient, session: Session) -> None:
        admin(client, session)
        allocate(session)
        session.commit()
        url = f"/api/v1/ledger/wallets/{new_id()}/fund"
        body = {"transfer_id": str(new_id()), "scheme": SCHEME, "year": YEAR}
        first = client.post(url, json=body, headers={"Idempotency-Key": "bytes-1"})
        again = client.post(url, json=body, headers={"Idempotency-Key": "bytes-1"})
        assert first.status_code == again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content

    def test_openapi_marks_the_key_required_and_documents_errors(self, client: TestClient) -> None:
        spec = client.get("/openapi.json").json()
        for path in (
            "/api/v1/ledger/transfers",
            "/api/v1/ledger/budgets",
            "/api/v1/ledger/wallets/{participant_id}/fund",
        ):
            operation = spec["paths"][path]["post"]
            key = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
            assert key["required"] is True, path
            for status in ("400", "401", "403", "409", "422"):
                assert status in operation["responses"], (path, status)
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody"), (path, status)
        error = spec["components"]["schemas"]["ErrorBody"]
        assert set(error["required"]) == {"code", "message", "message_en", "details"}
