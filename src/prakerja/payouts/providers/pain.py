"""ISO 20022 files for banks that take files (docs/payouts-partner-interface.md section 4.2): the pain.001.001.09
credit transfer initiation we write (one ``PmtInf`` per batch, control totals in ``GrpHdr`` and ``PmtInf``, amounts
in whole rupiah) and the pain.002.001.10 status report we read back (``TxSts`` per end-to-end id, the reason code
of a refusal mapped onto the interface's reasons). Written and read with the standard library's ElementTree (the
partner's file is parsed without entity expansion of external resources)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
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


def read_pain002(document: bytes, message_id: str) -> list[Report]:
    """The per-transaction statuses of a pain.002.001.10 answering ``message_id``: ``ACSC`` -> succeeded, ``RJCT``
    -> failed with its reason; pending lines (``PDNG``, ``ACSP``...) are left out (no result yet)."""
    ns = {"p": PAIN002}
    try:
        root = untrusted.fromstring(document)
    except (ET.ParseError, ValueError) as error:
        raise MalformedStatusReport("not XML") from error
    if root.tag != f"{{{PAIN002}}}Document":
        raise MalformedStatusReport("not a pain.002.001.10 document")
    original = root.find("p:CstmrPmtStsRpt/p:OrgnlGrpInfAndSts", ns)
    if original is None or original.findtext("p:OrgnlMsgId", namespaces=ns) != message_id:
        raise MalformedStatusReport("the report answers another message")
    created = root.findtext("p:CstmrPmtStsRpt/p:GrpHdr/p:CreDtTm", namespaces=ns)
    occurred = datetime.fromisoformat(created) if created else None
    reports = []
    for tx in root.iterfind("p:CstmrPmtStsRpt/p:OrgnlPmtInfAndSts/p:TxInfAndSts", ns):
        e2e = tx.findtext("p:OrgnlEndToEndId", namespaces=ns)
        status = tx.findtext("p:TxSts", namespaces=ns)
        if not e2e or not status:
            raise MalformedStatusReport("a transaction without end-to-end id or status")
        amount_text = tx.findtext("p:OrgnlTxRef/p:Amt/p:InstdAmt", namespaces=ns)
        amount = int(amount_text) if amount_text and amount_text.isdigit() else None
        if status == "ACSC":
            reports.append(Report(e2e, "succeeded", None, amount, occurred))
        elif status == "RJCT":
            code = tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", namespaces=ns) or ""
            reports.append(Report(e2e, "failed", REASONS.get(code, "partner_error"), amount, occurred))
    return reports
