"""Account statements of the program's account at a simulated partner (docs/payouts-partner-interface.md section 5):
``GET /{code}/statements/{date}.camt053`` (ISO 20022 camt.053.001.08) and ``GET /{code}/statements/{date}.csv``,
built from what the partner paid and reversed (``Partner.payments``): one debit line per time money left for a
payout on its booking day, one credit line marked as a reversal on the day it came back. Requests are signed as
every request of the program (section 2). ``POST /{code}/sim/statements {"corrupt": true}`` makes the partner serve
statements whose control totals are wrong, for tests of the program's refusal."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from prakerja.simulators.payments.auth import check_signature, partner_of
from prakerja.simulators.payments.state import JAKARTA, Partner, Simulator

CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
CSV_HEADER = ["statement_id", "booked_on", "end_to_end_id", "amount", "direction", "reversal"]


@dataclass(frozen=True)
class Line:
    end_to_end_id: str
    amount: int
    debit: bool
    """True: money left the program's account (a payout); False: it came back (a reversal)."""
    booked_on: date


def lines_of(partner: Partner, day: date) -> list[Line]:
    """The statement's lines for one Jakarta day, in a stable order."""
    lines: list[Line] = []
    for payment in sorted(partner.payments.values(), key=lambda p: p.end_to_end_id):
        if payment.booked() == day:
            lines.extend(Line(payment.end_to_end_id, payment.amount, True, day) for _ in range(payment.times_paid or 1))
        if payment.reversed_day() == day:
            lines.append(Line(payment.end_to_end_id, payment.amount, False, day))
    return lines


def net_before(partner: Partner, day: date) -> int:
    """Money that left the account (net of reversals) on the days before ``day``."""
    net = 0
    for payment in partner.payments.values():
        booked = payment.booked()
        if booked is not None and booked < day:
            net += payment.amount * (payment.times_paid or 1)
        returned = payment.reversed_day()
        if returned is not None and returned < day:
            net -= payment.amount
    return net


def statement_id(partner: Partner, day: date) -> str:
    return f"{partner.code.upper()}-{day:%Y%m%d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _balance(parent: ET.Element, code: str, amount: int, day: date) -> None:
    balance = _sub(parent, "Bal")
    _sub(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
    _sub(balance, "Amt", str(abs(amount)), Ccy="IDR")
    _sub(balance, "CdtDbtInd", "CRDT" if amount >= 0 else "DBIT")
    _sub(_sub(balance, "Dt"), "Dt", day.isoformat())


def camt053(partner: Partner, day: date, lines: list[Line], *, created: datetime, corrupt: bool = False) -> bytes:
    """The ISO 20022 camt.053.001.08 document of one day (amounts in whole rupiah)."""
    opening = partner.opening_balance - net_before(partner, day)
    net = sum(line.amount if line.debit else -line.amount for line in lines)
    total = sum(line.amount for line in lines) + (1 if corrupt else 0)
    stamp = created.astimezone(JAKARTA).replace(microsecond=0).isoformat()
    root = ET.Element("Document", {"xmlns": CAMT053})  # every element in the camt.053 namespace
    report = _sub(root, "BkToCstmrStmt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", f"STMT-{statement_id(partner, day)}")
    _sub(header, "CreDtTm", stamp)
    statement = _sub(report, "Stmt")
    _sub(statement, "Id", statement_id(partner, day))
    _sub(statement, "CreDtTm", stamp)
    period = _sub(statement, "FrToDt")
    start = datetime.combine(day, day_time(0, 0), JAKARTA)
    _sub(period, "FrDtTm", start.isoformat())
    _sub(period, "ToDtTm", (start + timedelta(days=1) - timedelta(seconds=1)).isoformat())
    account = _sub(statement, "Acct")
    _sub(_sub(_sub(account, "Id"), "Othr"), "Id", f"PRAKERJA-{partner.code.upper()}")
    _sub(account, "Ccy", "IDR")
    _balance(statement, "OPBD", opening, day)
    _balance(statement, "CLBD", opening - net, day)
    totals = _sub(_sub(statement, "TxsSummry"), "TtlNtries")
    _sub(totals, "NbOfNtries", str(len(lines)))
    _sub(totals, "Sum", str(total))
    net_entry = _sub(totals, "TtlNetNtry")
    _sub(net_entry, "Amt", str(abs(net)))
    _sub(net_entry, "CdtDbtInd", "DBIT" if net >= 0 else "CRDT")
    for number, line in enumerate(lines, start=1):
        entry = _sub(statement, "Ntry")
        _sub(entry, "NtryRef", str(number))
        _sub(entry, "Amt", str(line.amount), Ccy="IDR")
        _sub(entry, "CdtDbtInd", "DBIT" if line.debit else "CRDT")
        if not line.debit:
            _sub(entry, "RvslInd", "true")
        _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        _sub(_sub(entry, "BookgDt"), "Dt", line.booked_on.isoformat())
        _sub(_sub(entry, "ValDt"), "Dt", line.booked_on.isoformat())
        domain = _sub(_sub(entry, "BkTxCd"), "Domn")
        _sub(domain, "Cd", "PMNT")
        family = _sub(domain, "Fmly")
        _sub(family, "Cd", "ICDT")
        _sub(family, "SubFmlyCd", "ESCT")
        details = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        _sub(_sub(details, "Refs"), "EndToEndId", line.end_to_end_id)
        _sub(details, "Amt", str(line.amount), Ccy="IDR")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def statement_csv(partner: Partner, day: date, lines: list[Line], *, corrupt: bool = False) -> bytes:
    """The same lines as CSV, with the ``#total,<entries>,<sum>`` control line last."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    ref = statement_id(partner, day)
    for line in lines:
        writer.writerow(
            [
                ref,
                line.booked_on.isoformat(),
                line.end_to_end_id,
                line.amount,
                "debit" if line.debit else "credit",
                "false" if line.debit else "true",
            ]
        )
    writer.writerow(["#total", len(lines), sum(line.amount for line in lines) + (1 if corrupt else 0)])
    return out.getvalue().encode()


def _authorised(request: Request, code: str) -> Partner:
    """The partner, once the program's signature on this (bodiless) request checks out."""
    partner = partner_of(request, code)
    check_signature(request, partner, b"")
    return partner


def statements_router() -> APIRouter:
    router = APIRouter()

    @router.get("/{code}/statements/{name}")
    async def statement(code: str, name: str, request: Request) -> Response:
        partner = _authorised(request, code)
        stem, _, extension = name.partition(".")
        try:
            day = date.fromisoformat(stem)
        except ValueError:
            raise HTTPException(404, detail={"code": "unknown_statement"}) from None
        if extension not in {"camt053", "csv"} or len(stem) != 10:
            raise HTTPException(404, detail={"code": "unknown_statement"})
        with partner.lock:
            lines = lines_of(partner, day)
            if extension == "csv":
                body = statement_csv(partner, day, lines, corrupt=partner.corrupt_statements)
            else:
                created = datetime.now(JAKARTA)
                body = camt053(partner, day, lines, created=created, corrupt=partner.corrupt_statements)
        media = "text/csv; charset=utf-8" if extension == "csv" else "application/xml"
        return Response(body, media_type=media)

    @router.post("/{code}/sim/statements")
    async def statement_controls(code: str, request: Request) -> JSONResponse:
        simulator: Simulator = request.app.state.simulator
        partner = simulator.partners.get(code)
        if partner is None:
            raise HTTPException(404, detail={"code": "unknown_partner"})
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("corrupt"), bool):
            raise HTTPException(400, detail={"code": "invalid_control", "known": ["corrupt"]})
        partner.corrupt_statements = body["corrupt"]
        return JSONResponse({"corrupt": partner.corrupt_statements})

    return router
