"""The simulated partners' payout side (docs/payouts-partner-interface.md section 4): the bulk payout API with
signed callbacks to the program, the status query, and pain.001 intake answered by a pain.002 status report.

What a real partner guarantees and the program relies on: a ``batch_id`` sent again gets its first answer and
nothing more; an ``end_to_end_id`` is paid at most once, whatever batch or file carries it again (only a payment
that failed for a technical reason is tried again when it comes back). ``Payment.times_paid`` counts money that
actually left, so a duplicate payment would show as ``times > 1`` on ``/sim/paid``.

Faults (rates 0-1, ``/sim/faults``): ``invalid_account`` (refused with an account reason), ``timeout`` (the
answer comes too late for the program's client, after the batch was taken), ``server_error`` (503, nothing taken),
``duplicate_callback`` (the same event delivered twice), ``delayed_callback`` (delivered seconds later, so it may
arrive after newer news), ``reversal`` (a success reversed a moment later)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import httpx
from defusedxml.ElementTree import fromstring as parse_xml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from prakerja.simulators.payments.auth import now, partner_of, signed_body, signed_json
from prakerja.simulators.payments.state import Partner, Payment, Simulator, callback_signature

ACCOUNT_REASONS = ("account_not_found", "account_closed", "account_blocked", "name_mismatch")
TECHNICAL_REASONS = ("timeout", "partner_error", "insufficient_funds")
ISO_REASON = {
    "account_not_found": "AC01",
    "account_closed": "AC04",
    "account_blocked": "AC06",
    "insufficient_funds": "AM04",
    "name_mismatch": "BE01",
    "timeout": "NARR",
    "partner_error": "NARR",
}
SLOW_SECONDS = 2.5
"""How long a ``timeout`` fault holds the answer (longer than the program's client waits in tests)."""
DELAY_SECONDS = 1.5
CALLBACK_ATTEMPTS = 4
PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"

_tasks: set[asyncio.Task[None]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def _number(partner: Partner, value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    if partner.kind == "ewallet" and digits.startswith("62"):
        return "0" + digits[2:]
    return digits if partner.kind == "ewallet" else value


def _take(partner: Partner, batch_id: str, item: dict[str, Any]) -> Payment | None:
    """Record one instruction; the payment to process, or None when the end-to-end id is already known (and not a
    technical failure to try again)."""
    e2e = str(item["end_to_end_id"])
    with partner.lock:
        known = partner.payments.get(e2e)
        if known is not None and not (known.status == "failed" and known.reason in TECHNICAL_REASONS):
            return None
        payment = known or Payment(
            end_to_end_id=e2e,
            number=str(item["number"]),
            amount=int(item["amount"]),
            batch_id=batch_id,
            remittance=str(item.get("remittance") or "")[:140],
        )
        payment.status, payment.reason, payment.updated_at = "received", "", now()
        partner.payments[e2e] = payment
        return payment


def _decide(partner: Partner, payment: Payment) -> None:
    """Pay it, or refuse it with a reason; money leaves once per end-to-end id."""
    with partner.lock:
        if payment.status != "received":
            return
        customer = partner.customers.get(_number(partner, payment.number))
        if partner.fault("invalid_account"):
            payment.status, payment.reason = "failed", "account_closed"
        elif customer is None and not partner.any_account:
            payment.status, payment.reason = "failed", "account_not_found"
        elif customer is not None and not customer.active:
            payment.status, payment.reason = "failed", "account_closed"
        else:
            payment.status, payment.reason = "succeeded", ""
            payment.times_paid += 1
        payment.updated_at = now()


def _event(payment: Payment, status: str) -> dict[str, Any]:
    return {
        "event_id": f"evt_{secrets.token_hex(12)}",
        "end_to_end_id": payment.end_to_end_id,
        "status": status,
        "reason": payment.reason or None,
        "amount": payment.amount,
        "occurred_at": (payment.updated_at or now()).isoformat(),
    }


async def _deliver(simulator: Simulator, partner: Partner, event: dict[str, Any], *, delay: float = 0.0) -> None:
    """POST one signed callback, retried a few times (the program's status query covers what never arrives)."""
    if simulator.program_url is None:
        return
    if delay:
        await asyncio.sleep(delay)
    body = json.dumps(event).encode()
    url = f"{simulator.program_url.rstrip('/')}/payouts/v1/callbacks/{partner.code}"
    async with httpx.AsyncClient(timeout=5.0) as client:
        for attempt in range(CALLBACK_ATTEMPTS):
            stamp = int(time.time())
            headers = {
                "content-type": "application/json",
                "webhook-id": event["event_id"],
                "webhook-timestamp": str(stamp),
                "webhook-signature": callback_signature(partner.secret, event["event_id"], stamp, body),
            }
            try:
                answer = await client.post(url, content=body, headers=headers)
                if answer.status_code < 500:
                    partner.callbacks.append({**event, "answer": answer.status_code})
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2 * 2**attempt)


async def _process(simulator: Simulator, partner: Partner, payments: list[Payment]) -> None:
    for payment in payments:
        _decide(partner, payment)
        event = _event(payment, payment.status)
        delay = DELAY_SECONDS if partner.fault("delayed_callback") else 0.0
        _spawn(_deliver(simulator, partner, event, delay=delay))
        if partner.fault("duplicate_callback"):
            _spawn(_deliver(simulator, partner, event, delay=delay + 0.1))
        if payment.status == "succeeded" and partner.fault("reversal"):
            _spawn(_reverse(simulator, partner, payment))


async def _reverse(simulator: Simulator, partner: Partner, payment: Payment) -> None:
    await asyncio.sleep(0.3)
    with partner.lock:
        if payment.status != "succeeded":
            return
        payment.status, payment.reason, payment.updated_at = "reversed", "account_closed", now()
        partner.reversed += 1
    await _deliver(simulator, partner, _event(payment, "reversed"))


def _instructions(data: dict[str, Any]) -> list[dict[str, Any]]:
    items = data.get("instructions")
    if not isinstance(items, list) or not items:
        raise HTTPException(422, detail={"code": "invalid_request", "field": "instructions"})
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("end_to_end_id"), str)
            and 1 <= len(item["end_to_end_id"]) <= 35
            and type(item.get("amount")) is int
            and item["amount"] > 0
            and isinstance(item.get("number"), str)
        ):
            raise HTTPException(422, detail={"code": "invalid_request", "field": "instructions"})
    return items


def paying_router() -> APIRouter:
    router = APIRouter()

    @router.post("/{code}/payouts", status_code=202)
    async def bulk(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        data = await signed_json(request, partner)
        batch_id = data.get("batch_id")
        if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= 35:
            raise HTTPException(422, detail={"code": "invalid_request", "field": "batch_id"})
        first = partner.batches.get(batch_id)
        if first is not None:
            return JSONResponse(first, status_code=202)
        if partner.fault("server_error"):
            raise HTTPException(503, detail={"code": "partner_error"})
        items = _instructions(data)
        if data.get("count") != len(items) or data.get("control_sum") != sum(i["amount"] for i in items):
            raise HTTPException(422, detail={"code": "control_mismatch"})
        slow = partner.fault("timeout")
        taken = [p for p in (_take(partner, batch_id, item) for item in items) if p is not None]
        answer = {"batch_id": batch_id, "accepted": len(items)}
        partner.batches[batch_id] = answer
        _spawn(_process(request.app.state.simulator, partner, taken))
        if slow:
            await asyncio.sleep(SLOW_SECONDS)
        return JSONResponse(answer, status_code=202)

    @router.get("/{code}/payouts/{end_to_end_id}")
    async def status(code: str, end_to_end_id: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        await signed_body(request, partner)
        payment = partner.payments.get(end_to_end_id)
        if payment is None:
            raise HTTPException(404, detail={"code": "unknown_payout"})
        return JSONResponse(
            {
                "end_to_end_id": payment.end_to_end_id,
                "status": payment.status,
                "reason": payment.reason or None,
                "amount": payment.amount,
                "updated_at": (payment.updated_at or now()).isoformat(),
            }
        )

    @router.put("/{code}/files/pain.001/{message_id}", status_code=202)
    async def pain001(code: str, message_id: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        body = await signed_body(request, partner)
        if message_id in partner.files:
            return JSONResponse({"message_id": message_id, "accepted": True}, status_code=202)
        if partner.fault("server_error"):
            raise HTTPException(503, detail={"code": "partner_error"})
        items = _read_pain001(body, message_id)
        taken = [p for p in (_take(partner, message_id, item) for item in items) if p is not None]
        for payment in taken:
            _decide(partner, payment)
        partner.files[message_id] = [i["end_to_end_id"] for i in items]
        return JSONResponse({"message_id": message_id, "accepted": True}, status_code=202)

    @router.get("/{code}/files/pain.002/{message_id}")
    async def pain002(code: str, message_id: str, request: Request) -> Response:
        partner = partner_of(request, code)
        await signed_body(request, partner)
        ids = partner.files.get(message_id)
        if ids is None:
            raise HTTPException(404, detail={"code": "not_ready"})
        return Response(_write_pain002(partner, message_id, ids), media_type="application/xml")

    return router


def _read_pain001(body: bytes, message_id: str) -> list[dict[str, Any]]:
    ns = {"p": PAIN001}
    try:
        root = parse_xml(body)
    except (ET.ParseError, ValueError):
        raise HTTPException(422, detail={"code": "malformed_file"}) from None
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", ns)
    if root.tag != f"{{{PAIN001}}}Document" or header is None:
        raise HTTPException(422, detail={"code": "malformed_file"})
    if header.findtext("p:MsgId", namespaces=ns) != message_id:
        raise HTTPException(422, detail={"code": "message_id_mismatch"})
    items: list[dict[str, Any]] = []
    try:
        for tx in root.iterfind("p:CstmrCdtTrfInitn/p:PmtInf/p:CdtTrfTxInf", ns):
            items.append(
                {
                    "end_to_end_id": tx.findtext("p:PmtId/p:EndToEndId", namespaces=ns) or "",
                    "amount": int(tx.findtext("p:Amt/p:InstdAmt", namespaces=ns) or "0"),
                    "number": tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=ns) or "",
                    "remittance": tx.findtext("p:RmtInf/p:Ustrd", namespaces=ns) or "",
                }
            )
        count = int(header.findtext("p:NbOfTxs", namespaces=ns) or "-1")
        total = int(header.findtext("p:CtrlSum", namespaces=ns) or "-1")
    except ValueError:
        raise HTTPException(422, detail={"code": "malformed_file"}) from None
    if not items or any(not i["end_to_end_id"] or i["amount"] <= 0 for i in items):
        raise HTTPException(422, detail={"code": "malformed_file"})
    if count != len(items) or total != sum(i["amount"] for i in items):
        raise HTTPException(422, detail={"code": "control_mismatch"})
    return items


def _write_pain002(partner: Partner, message_id: str, ids: list[str]) -> bytes:
    ET.register_namespace("", PAIN002)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{PAIN002}}}{tag}")
        if text is not None:
            element.text = text
        return element

    root = ET.Element(f"{{{PAIN002}}}Document")
    report = sub(root, "CstmrPmtStsRpt")
    header = sub(report, "GrpHdr")
    sub(header, "MsgId", f"STS{message_id}"[:35])
    sub(header, "CreDtTm", datetime.now(UTC).replace(microsecond=0).isoformat())
    original = sub(report, "OrgnlGrpInfAndSts")
    sub(original, "OrgnlMsgId", message_id)
    sub(original, "OrgnlMsgNmId", "pain.001.001.09")
    payments = [partner.payments[e2e] for e2e in ids if e2e in partner.payments]
    paid = sum(1 for p in payments if p.status == "succeeded")
    sub(original, "GrpSts", "ACSC" if paid == len(payments) else ("RJCT" if paid == 0 else "PART"))
    info = sub(report, "OrgnlPmtInfAndSts")
    sub(info, "OrgnlPmtInfId", message_id)
    for payment in payments:
        tx = sub(info, "TxInfAndSts")
        sub(tx, "OrgnlEndToEndId", payment.end_to_end_id)
        sub(tx, "TxSts", {"succeeded": "ACSC", "failed": "RJCT", "reversed": "RJCT"}.get(payment.status, "PDNG"))
        if payment.status in {"failed", "reversed"}:
            reason = sub(sub(tx, "StsRsnInf"), "Rsn")
            sub(reason, "Cd", ISO_REASON.get(payment.reason, "NARR"))
        amount = sub(sub(tx, "OrgnlTxRef"), "Amt")
        sub(amount, "InstdAmt", str(payment.amount)).set("Ccy", "IDR")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
