"""ISO 20022 files: the pain.001.001.09 we write (structure and control totals) and the pain.002.001.10 we read."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from defusedxml.ElementTree import fromstring

from prakerja.payouts.providers import pain
from prakerja.payouts.providers.paying import Outgoing

NS = {"p": pain.PAIN001}


def batch() -> pain.Batch:
    return pain.Batch(
        message_id="PKJ20260302IBNI",
        created_at=datetime(2026, 3, 2, 9, 0, 0, 123, tzinfo=UTC),
        execution_date=date(2026, 3, 2),
        provider_code="bni",
        instructions=[
            Outgoing(end_to_end_id="PKJAAAA", number="1234567890", amount=600_000, name="SITI"),
            Outgoing(end_to_end_id="PKJBBBB", number="0987654321", amount=100_000, name="BUDI"),
        ],
    )


def test_pain001_has_the_structure_and_control_totals_of_the_standard() -> None:
    root = fromstring(pain.write_pain001(batch()))
    assert root.tag == f"{{{pain.PAIN001}}}Document"
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert [child.tag.split("}")[1] for child in header] == ["MsgId", "CreDtTm", "NbOfTxs", "CtrlSum", "InitgPty"]
    assert header.findtext("p:MsgId", namespaces=NS) == "PKJ20260302IBNI"
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "2"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "700000"
    info = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert info is not None
    assert info.findtext("p:PmtMtd", namespaces=NS) == "TRF"
    assert info.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS) == "2026-03-02"
    assert (info.findtext("p:NbOfTxs", namespaces=NS), info.findtext("p:CtrlSum", namespaces=NS)) == ("2", "700000")
    txs = info.findall("p:CdtTrfTxInf", NS)
    assert [t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for t in txs] == ["PKJAAAA", "PKJBBBB"]
    amounts = [t.find("p:Amt/p:InstdAmt", NS) for t in txs]
    assert [(a.text, a.get("Ccy")) for a in amounts if a is not None] == [("600000", "IDR"), ("100000", "IDR")]
    assert [t.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) for t in txs] == ["1234567890", "0987654321"]


def status_report(message_id: str, lines: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Document xmlns="{pain.PAIN002}"><CstmrPmtStsRpt>
<GrpHdr><MsgId>STS1</MsgId><CreDtTm>2026-03-02T10:00:00+00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>
<OrgnlPmtInfAndSts><OrgnlPmtInfId>{message_id}</OrgnlPmtInfId>{lines}</OrgnlPmtInfAndSts>
</CstmrPmtStsRpt></Document>""".encode()


def test_pain002_lines_become_reports_with_the_interfaces_reasons() -> None:
    lines = (
        "<TxInfAndSts><OrgnlEndToEndId>PKJAAAA</OrgnlEndToEndId><TxSts>ACSC</TxSts>"
        "<OrgnlTxRef><Amt><InstdAmt Ccy='IDR'>600000</InstdAmt></Amt></OrgnlTxRef></TxInfAndSts>"
        "<TxInfAndSts><OrgnlEndToEndId>PKJBBBB</OrgnlEndToEndId><TxSts>RJCT</TxSts>"
        "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf></TxInfAndSts>"
        "<TxInfAndSts><OrgnlEndToEndId>PKJCCCC</OrgnlEndToEndId><TxSts>PDNG</TxSts></TxInfAndSts>"
    )
    reports = pain.read_pain002(status_report("M1", lines), "M1")
    assert [(r.end_to_end_id, r.status, r.reason, r.amount) for r in reports] == [
        ("PKJAAAA", "succeeded", None, 600_000),
        ("PKJBBBB", "failed", "account_closed", None),
    ]


@pytest.mark.parametrize(
    "document",
    [
        b"not xml",
        b"<Document/>",
        status_report("OTHER", ""),
        status_report("M1", "<TxInfAndSts><TxSts>ACSC</TxSts></TxInfAndSts>"),
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]><d>&b;</d>',
    ],
)
def test_a_status_report_we_cannot_trust_is_refused(document: bytes) -> None:
    with pytest.raises(pain.MalformedStatusReport):
        pain.read_pain002(document, "M1")
