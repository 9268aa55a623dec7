"""``POST /payouts/v1/callbacks/{code}``: good callbacks applied once; bad ones refused or recorded, never applied."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerTransfer
from prakerja.payouts.models import (
    Entitlement,
    EntitlementStatus,
    InstructionStatus,
    PayoutInstruction,
    PayoutResult,
)
from prakerja.payouts.providers import signing
from prakerja.payouts.service import runs
from tests.payouts.conftest import PaymentsSim
from tests.payouts.test_run_paying import participants, start

PATH = "/payouts/v1/callbacks/ovo"


@pytest.fixture
def factory(clean_db: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=clean_db, expire_on_commit=False)


@pytest.fixture
def sent(session: Session, factory: sessionmaker[Session], payments_sim: PaymentsSim) -> list[PayoutInstruction]:
    """Two instructions with the partner (ovo), no result recorded yet (the simulator sends no callbacks here)."""
    participants(session, payments_sim, {"ovo": 2})
    run_id = start(factory)
    runs.execute(factory, run_id, check_after=timedelta(hours=1))
    rows = list(session.scalars(select(PayoutInstruction).order_by(PayoutInstruction.id)))
    assert [r.status for r in rows] == [InstructionStatus.sent] * 2
    return rows


def body(instruction: PayoutInstruction, **changes: Any) -> dict[str, Any]:
    return {
        "event_id": f"evt_{uuid.uuid4().hex}",
        "end_to_end_id": instruction.end_to_end_id,
        "status": "succeeded",
        "reason": None,
        "amount": instruction.amount,
        "occurred_at": datetime.now(UTC).isoformat(),
        **changes,
    }


def post(client: TestClient, secret: str, data: dict[str, Any] | bytes, *, at: datetime | None = None) -> Any:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    event = data["event_id"] if isinstance(data, dict) else "evt_raw"
    headers = signing.callback_headers(secret, event_id=event, now=at or datetime.now(UTC), body=raw)
    return client.post(PATH, content=raw, headers=headers)


def transfers(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0)


def status_of(session: Session, instruction: PayoutInstruction) -> InstructionStatus:
    session.expire_all()
    row = session.get(PayoutInstruction, instruction.id)
    assert row is not None
    return row.status


class TestGoodCallbacks:
    def test_success_is_applied_once_even_when_replayed(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        data = body(sent[0])
        before = transfers(session)
        assert post(client, payments_sim.secrets["ovo"], data).json() == {"received": True}
        assert status_of(session, sent[0]) is InstructionStatus.succeeded
        assert transfers(session) == before + 1
        again = post(client, payments_sim.secrets["ovo"], data)  # the same event, delivered twice
        assert again.status_code == 200 and transfers(session) == before + 1
        other = post(client, payments_sim.secrets["ovo"], body(sent[0]))  # the same news under another event id
        assert other.status_code == 200 and transfers(session) == before + 1
        rows = session.scalars(select(PayoutResult).where(PayoutResult.end_to_end_id == sent[0].end_to_end_id)).all()
        assert sorted((r.applied, r.rejection or "") for r in rows) == [(False, "duplicate"), (True, "")]
        assert ledger.disbursed(session).balance == sent[0].amount
        assert ledger.check(session).ok

    def test_a_failure_after_a_success_is_recorded_and_not_applied(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        secret = payments_sim.secrets["ovo"]
        post(client, secret, body(sent[0]))
        before = transfers(session)
        late = post(client, secret, body(sent[0], status="failed", reason="account_closed"))
        assert late.status_code == 200 and transfers(session) == before
        assert status_of(session, sent[0]) is InstructionStatus.succeeded
        row = session.scalars(select(PayoutResult).where(PayoutResult.reported_status == "failed")).one()
        assert (row.applied, row.rejection) == (False, "stale")

    def test_a_reversal_after_a_success_returns_the_money_to_the_payable(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        secret = payments_sim.secrets["ovo"]
        post(client, secret, body(sent[0]))
        post(client, secret, body(sent[0], status="reversed", reason="account_closed"))
        assert status_of(session, sent[0]) is InstructionStatus.reversed
        entitlement = session.get(Entitlement, sent[0].entitlement_id)
        assert entitlement is not None and entitlement.status is EntitlementStatus.needs_action
        assert ledger.disbursed(session).balance == 0
        assert ledger.check(session).ok

    def test_a_reversal_that_overtakes_its_success_settles_and_reverses(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        secret = payments_sim.secrets["ovo"]
        post(client, secret, body(sent[1], status="reversed", reason="account_closed"))
        before = transfers(session)
        late_success = post(client, secret, body(sent[1]))
        assert late_success.status_code == 200 and transfers(session) == before
        assert status_of(session, sent[1]) is InstructionStatus.reversed
        assert ledger.disbursed(session).balance == 0 and ledger.check(session).ok


class TestBadCallbacks:
    def test_a_wrong_signature_is_refused_recorded_and_not_applied(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction]
    ) -> None:
        before = transfers(session)
        answer = post(client, signing.new_secret(), body(sent[0]))
        assert answer.status_code == 401 and answer.json()["code"] == "bad_signature"
        assert status_of(session, sent[0]) is InstructionStatus.sent and transfers(session) == before
        row = session.scalars(select(PayoutResult)).one()
        assert (row.applied, row.rejection, row.end_to_end_id) == (False, "bad_signature", sent[0].end_to_end_id)

    def test_a_stale_timestamp_is_refused(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        old = datetime.now(UTC) - timedelta(minutes=10)
        answer = post(client, payments_sim.secrets["ovo"], body(sent[0]), at=old)
        assert answer.status_code == 401
        assert status_of(session, sent[0]) is InstructionStatus.sent

    def test_a_tampered_body_is_refused(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        data = body(sent[0])
        raw = json.dumps(data).encode()
        headers = signing.callback_headers(
            payments_sim.secrets["ovo"], event_id=data["event_id"], now=datetime.now(UTC), body=raw
        )
        answer = client.post(PATH, content=raw.replace(b"succeeded", b"failed\x20\x20\x20"), headers=headers)
        assert answer.status_code == 401
        assert status_of(session, sent[0]) is InstructionStatus.sent

    def test_an_unknown_partner_is_404(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction]
    ) -> None:
        answer = client.post("/payouts/v1/callbacks/nobank", content=b"{}")
        assert answer.status_code == 404 and answer.json()["code"] == "unknown_provider"
        assert session.scalar(select(func.count()).select_from(PayoutResult)) == 0

    @pytest.mark.parametrize(
        "raw",
        [
            b"not json",
            b"[]",
            b'{"event_id": "e1"}',
            b'{"event_id": "e1", "end_to_end_id": "X", "status": "paid", "amount": 1, '
            b'"occurred_at": "2026-01-01T00:00:00Z"}',
            b'{"event_id": "e1", "end_to_end_id": "X", "status": "succeeded", "amount": -5, '
            b'"occurred_at": "2026-01-01T00:00:00Z"}',
        ],
    )
    def test_a_malformed_body_is_422_and_writes_nothing(
        self, raw: bytes, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        before = transfers(session)
        answer = post(client, payments_sim.secrets["ovo"], raw)
        assert answer.status_code == 422 and answer.json()["code"] == "malformed_callback"
        assert session.scalar(select(func.count()).select_from(PayoutResult)) == 0 and transfers(session) == before

    def test_an_unknown_end_to_end_id_is_recorded_and_not_applied(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        before = transfers(session)
        answer = post(client, payments_sim.secrets["ovo"], body(sent[0], end_to_end_id="PKJ" + "0" * 26))
        assert answer.status_code == 200 and transfers(session) == before
        row = session.scalars(select(PayoutResult)).one()
        assert (row.applied, row.rejection) == (False, "unknown_instruction")

    def test_an_amount_mismatch_is_recorded_and_not_applied(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        before = transfers(session)
        answer = post(client, payments_sim.secrets["ovo"], body(sent[0], amount=sent[0].amount + 1))
        assert answer.status_code == 200 and transfers(session) == before
        assert status_of(session, sent[0]) is InstructionStatus.sent
        row = session.scalars(select(PayoutResult)).one()
        assert (row.applied, row.rejection) == (False, "amount_mismatch")

    def test_another_partners_instruction_is_not_applied(
        self, client: TestClient, session: Session, sent: list[PayoutInstruction], payments_sim: PaymentsSim
    ) -> None:
        from tests.payouts.test_run_paying import provider_at

        provider_at(session, payments_sim, "bni")
        session.commit()
        data = body(sent[0])
        raw = json.dumps(data).encode()
        headers = signing.callback_headers(
            payments_sim.secrets["bni"], event_id=data["event_id"], now=datetime.now(UTC), body=raw
        )
        answer = client.post("/payouts/v1/callbacks/bni", content=raw, headers=headers)
        assert answer.status_code == 200
        assert status_of(session, sent[0]) is InstructionStatus.sent
        row = session.scalars(select(PayoutResult)).one()
        assert (row.applied, row.rejection) == (False, "wrong_provider")


def test_partners_get_no_browser_cookies(client: TestClient, payments_sim: PaymentsSim) -> None:
    """A payment partner's callback is a machine call: no CSRF token or device id comes back with the answer."""
    answer = post(client, payments_sim.secrets["ovo"], b"{not json")
    assert answer.status_code in (400, 401, 404, 422)
    assert answer.headers.get_list("set-cookie") == []
