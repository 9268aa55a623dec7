"""The simulated partner's statements over real HTTP (docs/payouts-partner-interface.md section 5): camt.053.001.08
and CSV of what it paid and reversed on a day, with control totals that match, signed requests only, and a switch
that makes it serve a statement with a wrong control sum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import defusedxml.ElementTree as ET
import httpx
import pytest

from prakerja.payouts.errors import StatementControlMismatch
from prakerja.payouts.models import StatementFormat
from prakerja.payouts.providers import camt, signing
from prakerja.simulators.payments.state import Payment
from tests.payouts.conftest import PaymentsSim
from tests.payouts.recon_factory import DAY, PAID_AT, pay_at_sim

NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}


def get(sim: PaymentsSim, code: str, name: str, *, signed: bool = True) -> httpx.Response:
    url = f"{sim.base(code)}/statements/{name}"
    headers = (
        signing.request_headers(
            sim.secrets[code], now=datetime.now(UTC), method="GET", path=urlsplit(url).path, body=b""
        )
        if signed
        else {}
    )
    return httpx.get(url, headers=headers, timeout=10)


@pytest.fixture
def booked(payments_sim: PaymentsSim) -> PaymentsSim:
    """At bni on 2 March: A paid, B paid twice, C paid then reversed the next day, D paid the day before."""
    bni = payments_sim.simulator.partners["bni"]
    pay_at_sim(bni, "PKJA", 600_000)
    pay_at_sim(bni, "PKJB", 100_000, times=2)
    pay_at_sim(bni, "PKJC", 600_000).mark_reversed(PAID_AT + timedelta(days=1), "account_closed")
    pay_at_sim(bni, "PKJD", 250_000, at=PAID_AT - timedelta(days=1))
    return payments_sim


class TestCamt053:
    def test_one_debit_per_payment_made_that_day_with_matching_control_totals(self, booked: PaymentsSim) -> None:
        response = get(booked, "bni", f"{DAY}.camt053")
        assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(response.content)
        statement = root.find("c:BkToCstmrStmt/c:Stmt", NS)
        assert statement is not None and statement.findtext("c:Id", namespaces=NS) == "BNI-20260302"
        entries = statement.findall("c:Ntry", NS)
        ids = [e.findtext("c:NtryDtls/c:TxDtls/c:Refs/c:EndToEndId", namespaces=NS) for e in entries]
        assert ids == ["PKJA", "PKJB", "PKJB", "PKJC"]
        assert {e.findtext("c:CdtDbtInd", namespaces=NS) for e in entries} == {"DBIT"}
        assert statement.findtext("c:TxsSummry/c:TtlNtries/c:NbOfNtries", namespaces=NS) == "4"
        assert statement.findtext("c:TxsSummry/c:TtlNtries/c:Sum", namespaces=NS) == str(600_000 + 200_000 + 600_000)
        balances = {
            b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): int(b.findtext("c:Amt", namespaces=NS) or 0)
            for b in statement.findall("c:Bal", NS)
        }
        opening = booked.simulator.partners["bni"].opening_balance - 250_000
        assert balances == {"OPBD": opening, "CLBD": opening - 1_400_000}

    def test_the_reversal_is_a_credit_marked_as_such_on_the_day_money_came_back(self, booked: PaymentsSim) -> None:
        response = get(booked, "bni", f"{DAY + timedelta(days=1)}.camt053")
        parsed = camt.read_camt053(response.content)
        assert [(line.end_to_end_id, line.amount, line.debit) for line in parsed.lines] == [("PKJC", 600_000, False)]
        entry = ET.fromstring(response.content).find("c:BkToCstmrStmt/c:Stmt/c:Ntry", NS)
        assert entry is not None and entry.findtext("c:RvslInd", namespaces=NS) == "true"
        assert entry.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT"

    def test_the_programs_reader_accepts_it(self, booked: PaymentsSim) -> None:
        parsed = camt.read_statement(get(booked, "bni", f"{DAY}.camt053").content)
        assert (parsed.statement_ref, parsed.format, parsed.period_from, parsed.period_to) == (
            "BNI-20260302",
            StatementFormat.camt053,
            DAY,
            DAY,
        )
        assert (parsed.entries, parsed.control_sum) == (4, 1_400_000)

    def test_a_day_without_payments_is_an_empty_statement(self, booked: PaymentsSim) -> None:
        parsed = camt.read_statement(get(booked, "ovo", f"{DAY}.camt053").content)
        assert (parsed.statement_ref, parsed.entries, parsed.control_sum, parsed.lines) == ("OVO-20260302", 0, 0, [])


class TestCsv:
    def test_same_lines_with_the_total_line_last(self, booked: PaymentsSim) -> None:
        response = get(booked, "bni", f"{DAY}.csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        lines = response.text.splitlines()
        assert lines[0] == "statement_id,booked_on,end_to_end_id,amount,direction,reversal"
        assert lines[1] == "BNI-20260302,2026-03-02,PKJA,600000,debit,false"
        assert lines[-1] == "#total,4,1400000"
        after = get(booked, "bni", f"{DAY + timedelta(days=1)}.csv").text.splitlines()
        assert after[1:] == ["BNI-20260303,2026-03-03,PKJC,600000,credit,true", "#total,1,600000"]
        assert camt.read_statement(response.content).control_sum == 1_400_000


class TestRefusalsAndControls:
    def test_unsigned_or_unknown_requests_are_refused(self, booked: PaymentsSim) -> None:
        unsigned = get(booked, "bni", f"{DAY}.camt053", signed=False)
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "stale_timestamp"
        assert get(booked, "bni", "yesterday.camt053").status_code == 404
        assert get(booked, "bni", f"{DAY}.pdf").status_code == 404
        assert httpx.get(f"{booked.url}/bca/statements/{DAY}.csv").status_code == 404

    def test_the_corrupt_switch_serves_a_bad_control_sum_the_reader_refuses(self, booked: PaymentsSim) -> None:
        switched = httpx.post(f"{booked.base('bni')}/sim/statements", json={"corrupt": True})
        assert switched.status_code == 200 and switched.json() == {"corrupt": True}
        for name in (f"{DAY}.camt053", f"{DAY}.csv"):
            with pytest.raises(StatementControlMismatch) as refused:
                camt.read_statement(get(booked, "bni", name).content)
            assert refused.value.code == "statement_control_mismatch"
        assert httpx.post(f"{booked.base('bni')}/sim/statements", json={"corrupt": "yes"}).status_code == 400
        httpx.post(f"{booked.base('bni')}/sim/statements", json={"corrupt": False})
        assert camt.read_statement(get(booked, "bni", f"{DAY}.csv").content).entries == 4


def test_a_payment_recorded_without_booking_days_is_booked_on_its_last_change(payments_sim: PaymentsSim) -> None:
    """Whoever pays at the simulator may set the status without ``mark_paid``/``mark_reversed``: the statement then
    books the payment (and its reversal) on the day of its last change."""
    bni = payments_sim.simulator.partners["bni"]
    bni.payments["PKJE"] = Payment(
        end_to_end_id="PKJE", number="1", amount=100, batch_id="B", status="reversed", times_paid=1, updated_at=PAID_AT
    )
    lines = camt.read_statement(get(payments_sim, "bni", f"{DAY}.csv").content).lines
    assert [(line.end_to_end_id, line.amount, line.debit) for line in lines] == [
        ("PKJE", 100, True),
        ("PKJE", 100, False),
    ]
