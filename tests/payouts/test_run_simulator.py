"""The simulator's payout side over HTTP, as a partner following the interface must behave: idempotent batches,
an end-to-end id paid at most once, control totals checked, signed requests only, status queries, files."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime

import httpx

from prakerja.payouts.providers import pain, paying, signing
from prakerja.simulators.payments.state import Customer
from tests.payouts.conftest import PaymentsSim


def partner(sim: PaymentsSim, code: str = "bni") -> paying.Partner:
    return paying.Partner(code=code, base_url=sim.base(code), secret=sim.secrets[code])


def accounts(sim: PaymentsSim, *numbers: str, active: bool = True) -> None:
    for number in numbers:
        sim.simulator.partners["bni"].customers[number] = Customer(
            number=number, holder_name="SITI", nik="3201000000000001", phone="081200000000", active=active
        )


def out(e2e: str, number: str = "1111111111", amount: int = 600_000) -> paying.Outgoing:
    return paying.Outgoing(end_to_end_id=e2e, number=number, amount=amount, name="SITI")


def times_paid(sim: PaymentsSim, code: str = "bni") -> dict[str, int]:
    return {p.end_to_end_id: p.times_paid for p in sim.simulator.partners[code].payments.values()}


def settle(sim: PaymentsSim, http: httpx.Client, e2e: str) -> paying.Report | None:
    for _ in range(100):
        report = paying.query(http, partner(sim), e2e)
        if report is None or report.status != "received":
            return report
        time.sleep(0.02)
    return report


def test_a_batch_sent_again_and_an_end_to_end_id_in_another_batch_are_not_paid_again(
    payments_sim: PaymentsSim,
) -> None:
    accounts(payments_sim, "1111111111")
    with httpx.Client() as http:
        first = paying.send_batch(http, partner(payments_sim), "B1", [out("PKJA")])
        assert first == paying.Accepted("B1", 1)
        assert paying.send_batch(http, partner(payments_sim), "B1", [out("PKJA")]) == first
        assert isinstance(
            paying.send_batch(http, partner(payments_sim), "B2", [out("PKJA", amount=5)]), paying.Accepted
        )
        report = settle(payments_sim, http, "PKJA")
    assert report is not None and report.status == "succeeded" and report.amount == 600_000
    assert times_paid(payments_sim) == {"PKJA": 1}


def test_a_batch_with_wrong_control_totals_is_refused_and_pays_nothing(payments_sim: PaymentsSim) -> None:
    body = json.dumps({"batch_id": "B9", "count": 2, "control_sum": 1, "instructions": [out("PKJB").__dict__]}).encode()
    headers = signing.request_headers(
        payments_sim.secrets["bni"], now=datetime.now(UTC), method="POST", path="/bni/payouts", body=body
    )
    answer = httpx.post(f"{payments_sim.base('bni')}/payouts", content=body, headers=headers)
    assert answer.status_code == 422 and answer.json()["code"] == "control_mismatch"
    assert times_paid(payments_sim) == {}


def test_unsigned_or_wrongly_signed_requests_are_refused(payments_sim: PaymentsSim) -> None:
    wrong = paying.Partner(code="bni", base_url=payments_sim.base("bni"), secret=signing.new_secret())
    with httpx.Client() as http:
        assert paying.send_batch(http, wrong, "B3", [out("PKJC")]) == paying.Refused(401, "bad_signature")
        assert httpx.get(f"{payments_sim.base('bni')}/payouts/PKJC").status_code == 401
        assert paying.query(http, partner(payments_sim), "PKJC") is None  # never received
    assert times_paid(payments_sim) == {}


def test_an_unknown_account_is_refused_with_an_account_reason(payments_sim: PaymentsSim) -> None:
    accounts(payments_sim, "2222222222", active=False)
    with httpx.Client() as http:
        paying.send_batch(http, partner(payments_sim), "B4", [out("PKJD", "9999999999"), out("PKJE", "2222222222")])
        reports = [settle(payments_sim, http, e2e) for e2e in ("PKJD", "PKJE")]
    assert [(r.status, r.reason) for r in reports if r] == [
        ("failed", "account_not_found"),
        ("failed", "account_closed"),
    ]
    assert times_paid(payments_sim) == {"PKJD": 0, "PKJE": 0}


def test_a_pain001_file_is_paid_once_and_answered_by_a_pain002(payments_sim: PaymentsSim) -> None:
    accounts(payments_sim, "1111111111")
    document = pain.write_pain001(
        pain.Batch("MSG1", datetime.now(UTC), date(2026, 3, 2), "bni", [out("PKJF"), out("PKJG", "8888888888")])
    )
    with httpx.Client() as http:
        assert paying.fetch_pain002(http, partner(payments_sim), "MSG1") is None
        assert isinstance(paying.upload_pain001(http, partner(payments_sim), "MSG1", document), paying.Accepted)
        assert isinstance(paying.upload_pain001(http, partner(payments_sim), "MSG1", document), paying.Accepted)
        report = paying.fetch_pain002(http, partner(payments_sim), "MSG1")
    assert report is not None
    lines = pain.read_pain002(report, "MSG1")
    assert [(r.end_to_end_id, r.status, r.reason) for r in lines] == [
        ("PKJF", "succeeded", None),
        ("PKJG", "failed", "account_not_found"),
    ]
    assert times_paid(payments_sim) == {"PKJF": 1, "PKJG": 0}


def test_a_pain001_with_wrong_control_totals_is_refused(payments_sim: PaymentsSim) -> None:
    document = pain.write_pain001(pain.Batch("MSG2", datetime.now(UTC), date(2026, 3, 2), "bni", [out("PKJH")]))
    tampered = document.replace(b"<CtrlSum>600000</CtrlSum>", b"<CtrlSum>1</CtrlSum>", 1)
    with httpx.Client() as http:
        assert paying.upload_pain001(http, partner(payments_sim), "MSG2", tampered) == paying.Refused(
            422, "control_mismatch"
        )
    assert times_paid(payments_sim) == {}
