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
import io
import json
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import httpx
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from lxml import etree

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


def _iterparse(body: bytes, tags: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """libxml2's events of the elements named ``tags`` (entities never resolved, nothing loaded or fetched), after
    refusing what could expand or fetch anything (a document type declaration) or hide one (an encoding that is not
    ASCII-compatible): ``ValueError``."""
    if body[:4].startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in body[:4]:
        raise ValueError("not an ASCII-compatible encoding")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise ValueError("document type declarations are refused")
    return iter(
        etree.iterparse(
            io.BytesIO(body),
            events=("start", "end"),
            tag=list(tags),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=True,
        )
    )


def _q(tag: str) -> str:
    return f"{{{PAIN001}}}{tag}"


_DOCUMENT, _HEADER, _TRANSACTION = _q("Document"), _q("GrpHdr"), _q("CdtTrfTxInf")


def _path_text(element: Any, path: tuple[str, ...]) -> str | None:
    """The text of the first child along ``path`` ("" when it has none), None when there is no such child."""
    for tag in path:
        element = next((child for child in element if child.tag == tag), None)
        if element is None:
            return None
    return str(element.text or "")


_FIELDS = {
    _q("PmtId"): ("end_to_end_id", (_q("EndToEndId"),)),
    _q("Amt"): ("amount", (_q("InstdAmt"),)),
    _q("CdtrAcct"): ("number", (_q("Id"), _q("Othr"), _q("Id"))),
    _q("RmtInf"): ("remittance", (_q("Ustrd"),)),
}
"""A transaction's child -> the field it holds and the path to it below that child."""


def _read_pain001(body: bytes, message_id: str) -> list[dict[str, Any]]:
    """The transactions of the program's pain.001, read as a stream (only the header and the transactions come back
    to Python, each dropped once read) after refusing any document type declaration."""
    items: list[dict[str, Any]] = []
    header: dict[str, str | None] = {}
    root_checked = False
    read: Any = None
    try:
        for event, element in _iterparse(body, (_DOCUMENT, _HEADER, _TRANSACTION)):
            if not root_checked:
                if element.tag != _DOCUMENT or element.getparent() is not None:
                    raise HTTPException(422, detail={"code": "malformed_file"})
                root_checked = True
            if event == "start":
                continue
            if element.tag == _TRANSACTION:
                item: dict[str, Any] = {}
                for child in element:  # the first of each field counts
                    known = _FIELDS.get(child.tag)
                    if known is not None and known[0] not in item:
                        item[known[0]] = _path_text(child, known[1])
                items.append(
                    {
                        "end_to_end_id": item.get("end_to_end_id") or "",
                        "amount": int(item.get("amount") or "0"),
                        "number": item.get("number") or "",
                        "remittance": item.get("remittance") or "",
                    }
                )
                element.clear(keep_tail=True)
                if read is not None and read.getparent() is not None:
                    read.getparent().remove(read)  # read: a million transactions must not stay in memory
                read = element
            elif element.tag == _HEADER and not header:
                header = {tag: element.findtext(_q(tag)) for tag in ("MsgId", "NbOfTxs", "CtrlSum")}
        count = int(header.get("NbOfTxs") or "-1")
        total = int(header.get("CtrlSum") or "-1")
    except (etree.XMLSyntaxError, ValueError):
        raise HTTPException(422, detail={"code": "malformed_file"}) from None
    if not header:
        raise HTTPException(422, detail={"code": "malformed_file"})
    if header.get("MsgId") != message_id:
        raise HTTPException(422, detail={"code": "message_id_mismatch"})
    if not items or any(not i["end_to_end_id"] or i["amount"] <= 0 for i in items):
        raise HTTPException(422, detail={"code": "malformed_file"})
    if count != len(items) or total != sum(i["amount"] for i in items):
        raise HTTPException(422, detail={"code": "control_mismatch"})
    return items


_TX_STATUS = {"succeeded": "ACSC", "failed": "RJCT", "reversed": "RJCT"}


def _write_pain002(partner: Partner, message_id: str, ids: list[str]) -> bytes:
    """The pain.002.001.10 status report of one file, written as text (escaped): a file may carry hundreds of
    thousands of transactions."""
    payments = [partner.payments[e2e] for e2e in ids if e2e in partner.payments]
    paid = sum(1 for p in payments if p.status == "succeeded")
    reference = escape(message_id)
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n",
        f'<Document xmlns="{PAIN002}"><CstmrPmtStsRpt><GrpHdr><MsgId>{escape(f"STS{message_id}"[:35])}</MsgId>',
        f"<CreDtTm>{datetime.now(UTC).replace(microsecond=0).isoformat()}</CreDtTm></GrpHdr>",
        f"<OrgnlGrpInfAndSts><OrgnlMsgId>{reference}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>",
        f"<GrpSts>{'ACSC' if paid == len(payments) else ('RJCT' if paid == 0 else 'PART')}</GrpSts>",
        f"</OrgnlGrpInfAndSts><OrgnlPmtInfAndSts><OrgnlPmtInfId>{reference}</OrgnlPmtInfId>",
    ]
    for payment in payments:
        reason = (
            f"<StsRsnInf><Rsn><Cd>{ISO_REASON.get(payment.reason, 'NARR')}</Cd></Rsn></StsRsnInf>"
            if payment.status in {"failed", "reversed"}
            else ""
        )
        parts.append(
            f"<TxInfAndSts><OrgnlEndToEndId>{escape(payment.end_to_end_id)}</OrgnlEndToEndId>"
            f"<TxSts>{_TX_STATUS.get(payment.status, 'PDNG')}</TxSts>{reason}"
            f'<OrgnlTxRef><Amt><InstdAmt Ccy="IDR">{payment.amount}</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>'
        )
    parts.append("</OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>")
    return "".join(parts).encode()
