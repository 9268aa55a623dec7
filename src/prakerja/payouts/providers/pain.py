"""ISO 20022 files for banks that take files (docs/payouts-partner-interface.md section 4.2): the pain.001.001.09
credit transfer initiation we write (one ``PmtInf`` per batch, control totals in ``GrpHdr`` and ``PmtInf``, amounts
in whole rupiah) and the pain.002.001.10 status report we read back (``TxSts`` per end-to-end id, the reason code
of a refusal mapped onto the interface's reasons). Written and read with the standard library's ElementTree (the
partner's file is parsed without entity expansion of external resources)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from prakerja.payouts.providers import untrusted
from prakerja.payouts.providers.paying import Outgoing, Report

PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"
DEBTOR_NAME = "Manajemen Pelaksana Program Kartu Prakerja"

REASONS = {
    "AC01": "account_not_found",
    "AC04": "account_closed",
    "AC06": "account_blocked",
    "BE01": "name_mismatch",
    "AM04": "insufficient_funds",
}
"""pain.002 ``StsRsnInf/Rsn/Cd`` -> the interface's reason (anything else is a technical ``partner_error``)."""


class MalformedStatusReport(ValueError):
    """A pain.002 we cannot read (not pain.002.001.10, another message's report, missing fields)."""


@dataclass(frozen=True)
class Batch:
    message_id: str
    created_at: datetime
    execution_date: date
    provider_code: str
    instructions: list[Outgoing]


def _sub(parent: ET.Element, tag: str, text: str | None = None, ns: str = PAIN001) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        element.text = text
    return element


def write_pain001(batch: Batch) -> bytes:
    """The pain.001.001.09 document of one batch (one payment information block). Written as text (escaped) rather
    than through an element tree: a batch holds up to hundreds of thousands of transactions."""
    if not batch.instructions:
        raise ValueError("a pain.001 carries at least one instruction")
    count = str(len(batch.instructions))
    total = str(sum(i.amount for i in batch.instructions))
    message_id = escape(batch.message_id)
    debtor = escape(DEBTOR_NAME)
    parts = [
        "<?xml version='1.0' encoding='utf-8'?>\n",
        f'<Document xmlns="{PAIN001}"><CstmrCdtTrfInitn><GrpHdr><MsgId>{message_id}</MsgId>',
        f"<CreDtTm>{batch.created_at.replace(microsecond=0).isoformat()}</CreDtTm>",
        f"<NbOfTxs>{count}</NbOfTxs><CtrlSum>{total}</CtrlSum><InitgPty><Nm>{debtor}</Nm></InitgPty></GrpHdr>",
        f"<PmtInf><PmtInfId>{message_id}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>{count}</NbOfTxs>",
        f"<CtrlSum>{total}</CtrlSum><ReqdExctnDt><Dt>{batch.execution_date.isoformat()}</Dt></ReqdExctnDt>",
        f"<Dbtr><Nm>{debtor}</Nm></Dbtr><DbtrAcct><Id><Othr><Id>PRAKERJA-KAS</Id></Othr></Id></DbtrAcct>",
        f"<DbtrAgt><FinInstnId><Othr><Id>{escape(batch.provider_code.upper())}</Id></Othr></FinInstnId></DbtrAgt>",
    ]
    parts.extend(
        f"<CdtTrfTxInf><PmtId><EndToEndId>{escape(item.end_to_end_id)}</EndToEndId></PmtId>"
        f'<Amt><InstdAmt Ccy="IDR">{item.amount}</InstdAmt></Amt><Cdtr><Nm>{escape(item.name[:140] or "PESERTA")}</Nm>'
        f"</Cdtr><CdtrAcct><Id><Othr><Id>{escape(item.number)}</Id></Othr></Id></CdtrAcct>"
        f"<RmtInf><Ustrd>{escape(item.remittance[:140] or 'Insentif Kartu Prakerja')}</Ustrd></RmtInf></CdtTrfTxInf>"
        for item in batch.instructions
    )
    parts.append("</PmtInf></CstmrCdtTrfInitn></Document>")
    return "".join(parts).encode()


_P2 = f"{{{PAIN002}}}"
_DOCUMENT, _HEADER, _ORIGINAL, _TX = (_P2 + name for name in ("Document", "GrpHdr", "OrgnlGrpInfAndSts", "TxInfAndSts"))
_E2E, _STATUS, _REASON_INFO, _REASON, _CODE = (
    _P2 + name for name in ("OrgnlEndToEndId", "TxSts", "StsRsnInf", "Rsn", "Cd")
)
_REFERENCE, _AMOUNT, _INSTRUCTED = (_P2 + name for name in ("OrgnlTxRef", "Amt", "InstdAmt"))


def _first(element: Any, *path: str) -> Any:
    """The first child along ``path`` (tags), or None."""
    for tag in path:
        element = next((child for child in element if child.tag == tag), None)
        if element is None:
            return None
    return element


def _text(element: Any, *path: str) -> str | None:
    """The text of the first child along ``path`` ("" when it has none), None when there is no such child."""
    found = _first(element, *path)
    return None if found is None else (found.text or "")


def read_pain002(document: bytes, message_id: str) -> list[Report]:
    """The per-transaction statuses of a pain.002.001.10 answering ``message_id``: ``ACSC`` -> succeeded, ``RJCT``
    -> failed with its reason; pending lines (``PDNG``, ``ACSP``...) are left out (no result yet). Read as a stream
    (``untrusted.iterparse_tags``): only the header and the transactions come back to Python, each dropped once
    read."""
    root_checked = False
    original: str | None = None
    occurred: datetime | None = None
    read: Any = None
    reports = []
    try:
        for event, element in untrusted.iterparse_tags(document, (_DOCUMENT, _HEADER, _ORIGINAL, _TX)):
            if not root_checked:
                if element.tag != _DOCUMENT or element.getparent() is not None:
                    raise MalformedStatusReport("not a pain.002.001.10 document")
                root_checked = True
            if event == "start":
                continue
            tag = element.tag
            if tag == _TX:
                if original != message_id:
                    raise MalformedStatusReport("the report answers another message")
                e2e = status = amount_text = code = None
                for child in element:  # one pass over the transaction's fields, the first of each counting
                    field = child.tag
                    if field == _E2E and e2e is None:
                        e2e = child.text or ""
                    elif field == _STATUS and status is None:
                        status = child.text or ""
                    elif field == _REFERENCE and amount_text is None:
                        amount_text = _text(child, _AMOUNT, _INSTRUCTED)
                    elif field == _REASON_INFO and code is None:
                        code = _text(child, _REASON, _CODE)
                if not e2e or not status:
                    raise MalformedStatusReport("a transaction without end-to-end id or status")
                amount = int(amount_text) if amount_text and amount_text.isdigit() else None
                if status == "ACSC":
                    reports.append(Report(e2e, "succeeded", None, amount, occurred))
                elif status == "RJCT":
                    reports.append(Report(e2e, "failed", REASONS.get(code or "", "partner_error"), amount, occurred))
                element.clear(keep_tail=True)
                if read is not None and read.getparent() is not None:
                    read.getparent().remove(read)
                read = element
            elif tag == _ORIGINAL and original is None and _is_child_of_report(element):
                original = _text(element, _P2 + "OrgnlMsgId")
            elif tag == _HEADER and occurred is None and _is_child_of_report(element):
                created = _text(element, _P2 + "CreDtTm")
                occurred = datetime.fromisoformat(created) if created else None
    except MalformedStatusReport:
        raise
    except untrusted.ERRORS as error:
        raise MalformedStatusReport("not XML") from error
    except ValueError as error:  # a creation time that is not one
        raise MalformedStatusReport("not a pain.002.001.10 document") from error
    if not root_checked:
        raise MalformedStatusReport("not a pain.002.001.10 document")
    if original != message_id:
        raise MalformedStatusReport("the report answers another message")
    return reports


def _is_child_of_report(element: Any) -> bool:
    parent = element.getparent()
    return parent is not None and parent.tag == _P2 + "CstmrPmtStsRpt" and parent.getparent().getparent() is None
