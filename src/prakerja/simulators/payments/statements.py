"""Account statements of the program's account at a simulated partner (docs/payouts-partner-interface.md section 5):
``GET /{code}/statements/{date}.camt053`` (ISO 20022 camt.053.001.08) and ``GET /{code}/statements/{date}.csv``,
built from what the partner paid and reversed (``Partner.payments``): one debit line per time money left for a
payout on its booking day, one credit line marked as a reversal on the day it came back. Requests are signed as
every request of the program (section 2). ``POST /{code}/sim/statements {"corrupt": true}`` makes the partner serve
statements whose control totals are wrong, for tests of the program's refusal."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as day_time
from xml.sax.saxutils import escape

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


def _balance(code: str, amount: int, day: date) -> str:
    return (
        f'<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="IDR">{abs(amount)}</Amt>'
        f"<CdtDbtInd>{'CRDT' if amount >= 0 else 'DBIT'}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>"
    )


_REVERSAL = "<RvslInd>true</RvslInd>"


def camt053(partner: Partner, day: date, lines: list[Line], *, created: datetime, corrupt: bool = False) -> bytes:
    """The ISO 20022 camt.053.001.08 document of one day (amounts in whole rupiah), written as text (escaped): a
    day's statement may hold a million entries."""
    opening = partner.opening_balance - net_before(partner, day)
    net = sum(line.amount if line.debit else -line.amount for line in lines)
    total = sum(line.amount for line in lines) + (1 if corrupt else 0)
    stamp = created.astimezone(JAKARTA).replace(microsecond=0).isoformat()
    ref = escape(statement_id(partner, day))
    start = datetime.combine(day, day_time(0, 0), JAKARTA)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>\n",
        f'<Document xmlns="{CAMT053}"><BkToCstmrStmt><GrpHdr><MsgId>STMT-{ref}</MsgId><CreDtTm>{stamp}</CreDtTm>',
        f"</GrpHdr><Stmt><Id>{ref}</Id><CreDtTm>{stamp}</CreDtTm>",
        f"<FrToDt><FrDtTm>{start.isoformat()}</FrDtTm><ToDtTm>{end.isoformat()}</ToDtTm></FrToDt>",
        f"<Acct><Id><Othr><Id>PRAKERJA-{escape(partner.code.upper())}</Id></Othr></Id><Ccy>IDR</Ccy></Acct>",
        _balance("OPBD", opening, day),
        _balance("CLBD", opening - net, day),
        f"<TxsSummry><TtlNtries><NbOfNtries>{len(lines)}</NbOfNtries><Sum>{total}</Sum><TtlNetNtry>",
        f"<Amt>{abs(net)}</Amt><CdtDbtInd>{'DBIT' if net >= 0 else 'CRDT'}</CdtDbtInd></TtlNetNtry></TtlNtries>",
        "</TxsSummry>",
    ]
    for number, line in enumerate(lines, start=1):
        booked = line.booked_on.isoformat()
        parts.append(
            f'<Ntry><NtryRef>{number}</NtryRef><Amt Ccy="IDR">{line.amount}</Amt>'
            f"<CdtDbtInd>{'DBIT' if line.debit else 'CRDT'}</CdtDbtInd>{'' if line.debit else _REVERSAL}"
            f"<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{booked}</Dt></BookgDt><ValDt><Dt>{booked}</Dt></ValDt>"
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{escape(line.end_to_end_id)}</EndToEndId></Refs>"
            f'<Amt Ccy="IDR">{line.amount}</Amt></TxDtls></NtryDtls></Ntry>'
        )
    parts.append("</Stmt></BkToCstmrStmt></Document>")
    return "".join(parts).encode()


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
