"""Reading a payment partner's account statement (docs/payouts-partner-interface.md section 5): ISO 20022
camt.053.001.08 or the statement CSV, each checked against its own control totals, and fetching one from the
partner over HTTP (signed as every request of the program).

XML is read as a stream (``untrusted.iterparse_tags``: only the entries and the statement come back to Python, each
entry dropped once read, so a statement of a million entries fits in memory): a document type declaration, entity or
external reference is refused before parsing, never resolved (``untrusted``)."""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from prakerja.kit.clock import JAKARTA
from prakerja.payouts.errors import StatementControlMismatch, StatementMalformed, StatementUnavailable
from prakerja.payouts.models import PayoutProvider, StatementFormat
from prakerja.payouts.providers import signing, untrusted

CAMT053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
CSV_HEADER = ["statement_id", "booked_on", "end_to_end_id", "amount", "direction", "reversal"]
MAX_ID = 35
"""ISO 20022 Max35Text: statement ids and end-to-end ids."""
_WHOLE = re.compile(r"[0-9]{1,15}(\.0{1,2})?")
"""Whole rupiah as written in a statement (IDR has no minor unit; ``600000`` or ``600000.00``)."""
FETCH_TIMEOUT = httpx.Timeout(60.0, connect=5.0)


@dataclass(frozen=True)
class StatementLine:
    end_to_end_id: str
    amount: int
    """Whole rupiah, positive."""
    debit: bool
    """True: a payout left the program's account; False: money came back (a reversal)."""
    booked_on: date


@dataclass
class ParsedStatement:
    """A statement whose control totals matched its entries."""

    statement_ref: str
    format: StatementFormat
    period_from: date
    period_to: date
    entries: int
    control_sum: int
    sha256: bytes
    lines: list[StatementLine] = field(default_factory=list)


def _malformed(reason: str) -> StatementMalformed:
    return StatementMalformed(details={"reason": reason})


@functools.lru_cache(maxsize=4096)
def _whole(value: str) -> int | None:
    """Whole rupiah from a statement's text (stripped), None when it is not (a day's amounts repeat: cached)."""
    return int(value.split(".")[0]) if _WHOLE.fullmatch(value) else None


def _amount(text: str | None, where: str) -> int:
    value = _whole((text or "").strip())
    if value is None:
        raise _malformed(f"{where}: amount is not whole rupiah")
    return value


@functools.lru_cache(maxsize=1024)
def _moment_day(value: str) -> date | None:
    """The Jakarta day of an ISO date or date-time (stripped), None when it is neither (cached: a statement's lines
    share a few booking days)."""
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=JAKARTA)).astimezone(JAKARTA).date()


def _day(text: str | None, where: str) -> date:
    found = _moment_day((text or "").strip())
    if found is None:
        raise _malformed(f"{where}: not a date")
    return found


def _identifier(text: str | None, where: str) -> str:
    value = (text or "").strip()
    if not value or len(value) > MAX_ID or not value.isprintable():
        raise _malformed(f"{where}: missing or longer than {MAX_ID} characters")
    return value


def detect_format(content: bytes) -> StatementFormat:
    """XML starts with ``<`` (after a byte-order mark or blanks); anything else is read as CSV."""
    return StatementFormat.camt053 if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") else StatementFormat.csv


def read_statement(content: bytes, *, fmt: StatementFormat | None = None, day: date | None = None) -> ParsedStatement:
    """Parse and check a statement; ``StatementMalformed`` or ``StatementControlMismatch`` otherwise. ``day`` is the
    statement's date when the caller knows it (an empty CSV names no statement of its own)."""
    fmt = fmt or detect_format(content)
    if fmt == StatementFormat.camt053:
        return read_camt053(content)
    return read_csv(content, day=day)


# camt.053 ---------------------------------------------------------------------------------------------------

_DOCUMENT, _STMT, _NTRY = (f"{{{CAMT053}}}{name}" for name in ("Document", "Stmt", "Ntry"))
_AMT, _CDT_DBT = (f"{{{CAMT053}}}{name}" for name in ("Amt", "CdtDbtInd"))
_BOOKING, _DT, _DT_TM = (f"{{{CAMT053}}}{name}" for name in ("BookgDt", "Dt", "DtTm"))
_DETAILS, _TX_DETAILS, _REFS, _E2E = (f"{{{CAMT053}}}{name}" for name in ("NtryDtls", "TxDtls", "Refs", "EndToEndId"))


@functools.cache
def _q(*names: str) -> str:
    return "/".join(f"{{{CAMT053}}}{name}" for name in names)


def _entry(entry: Any, number: int, lines: list[StatementLine]) -> int:
    """One ``Ntry``'s lines appended to ``lines`` (one per ``TxDtls``); returns the entry's amount. Its children are
    read in one pass (a statement may hold a million entries; a path search per field costs several times more)."""
    amount_element: Any = None
    indicator: str | None = None
    booked: dict[str, str] = {}
    details: list[Any] = []
    for child in entry:  # the first of each field counts, as a path search would find it
        tag = child.tag
        if tag == _AMT:
            amount_element = child if amount_element is None else amount_element
        elif tag == _CDT_DBT:
            indicator = (child.text or "").strip() if indicator is None else indicator
        elif tag == _BOOKING:
            for when in child:
                if when.tag in (_DT, _DT_TM):
                    booked.setdefault(when.tag, when.text or "")
        elif tag == _DETAILS:
            details.extend(detail for detail in child if detail.tag == _TX_DETAILS)
    amount = _amount(amount_element.text if amount_element is not None else None, f"entry {number}")
    if amount_element is None or amount_element.get("Ccy") != "IDR":
        raise _malformed(f"entry {number}: currency is not IDR")
    if indicator not in {"DBIT", "CRDT"}:
        raise _malformed(f"entry {number}: CdtDbtInd is not DBIT or CRDT")
    booked_on = _day(booked.get(_DT) or booked.get(_DT_TM), f"entry {number} booking date")
    if not details:
        raise _malformed(f"entry {number}: no transaction details (EndToEndId)")
    debit = indicator == "DBIT"
    parts = 0
    for detail in details:
        reference: str | None = None
        own: str | None = None
        for child in detail:
            if child.tag == _REFS and reference is None:
                reference = next((ref.text or "" for ref in child if ref.tag == _E2E), None)
            elif child.tag == _AMT and own is None:
                own = child.text or ""
        part = _amount(own, f"entry {number}") if own is not None else amount
        parts += part
        lines.append(StatementLine(_identifier(reference, f"entry {number} EndToEndId"), part, debit, booked_on))
    if parts != amount:
        raise _malformed(f"entry {number}: transaction amounts do not add up to the entry's")
    return amount


def read_camt053(content: bytes) -> ParsedStatement:
    statement_ref: str | None = None
    period: list[date] = []
    declared_count: int | None = None
    declared_sum: int | None = None
    declared_net: int | None = None
    statements = 0
    lines: list[StatementLine] = []
    entries = 0
    entry_sum = 0
    root_checked = False
    read: Any = None
    """The entry read last: it leaves its parent once the next one is read (a million must not stay in memory)."""
    try:
        for event, element in untrusted.iterparse_tags(content, (_DOCUMENT, _STMT, _NTRY)):
            if not root_checked:
                if element.tag != _DOCUMENT or element.getparent() is not None:
                    raise _malformed("not an ISO 20022 camt.053.001.08 document")
                root_checked = True
            if event == "start":
                continue
            tag = element.tag
            if tag == _NTRY:
                entries += 1
                entry_sum += _entry(element, entries, lines)
                element.clear(keep_tail=True)
                if read is not None and read.getparent() is not None:
                    read.getparent().remove(read)
                read = element
            elif tag == _STMT:
                statements += 1
                statement_ref = _identifier(element.findtext(_q("Id")), "Stmt/Id")
                start = element.findtext(_q("FrToDt", "FrDtTm"))
                end = element.findtext(_q("FrToDt", "ToDtTm"))
                if start is not None and end is not None:
                    period = [_day(start, "FrDtTm"), _day(end, "ToDtTm")]
                totals = element.find(_q("TxsSummry", "TtlNtries"))
                if totals is not None:
                    count_text = totals.findtext(_q("NbOfNtries"))
                    if count_text is None or not count_text.strip().isdigit():
                        raise _malformed("TxsSummry/TtlNtries/NbOfNtries missing")
                    declared_count = int(count_text)
                    declared_sum = _amount(totals.findtext(_q("Sum")), "TxsSummry/TtlNtries/Sum")
                    net = totals.find(_q("TtlNetNtry"))
                    if net is not None:
                        value = _amount(net.findtext(_q("Amt")), "TtlNetNtry")
                        declared_net = value if (net.findtext(_q("CdtDbtInd")) or "").strip() == "DBIT" else -value
                element.clear(keep_tail=True)
    except untrusted.ERRORS as error:
        raise _malformed(f"not well-formed or unsafe XML ({type(error).__name__})") from None
    if not root_checked:
        raise _malformed("not an ISO 20022 camt.053.001.08 document")
    if statements != 1 or statement_ref is None:
        raise _malformed("a statement file holds exactly one Stmt")
    if declared_count is None or declared_sum is None:
        raise _malformed("TxsSummry/TtlNtries (NbOfNtries, Sum) missing")
    net_total = sum(line.amount if line.debit else -line.amount for line in lines)
    if (
        declared_count != entries
        or declared_sum != entry_sum
        or (declared_net is not None and declared_net != net_total)
    ):
        raise StatementControlMismatch(
            details={
                "declared_entries": declared_count,
                "entries": entries,
                "declared_sum": declared_sum,
                "sum": entry_sum,
            }
        )
    if not period:
        if not lines:
            raise _malformed("no period (FrToDt) and no entries")
        period = [min(line.booked_on for line in lines), max(line.booked_on for line in lines)]
    return ParsedStatement(
        statement_ref=statement_ref,
        format=StatementFormat.camt053,
        period_from=period[0],
        period_to=period[1],
        entries=entries,
        control_sum=entry_sum,
        sha256=hashlib.sha256(content).digest(),
        lines=lines,
    )


# CSV --------------------------------------------------------------------------------------------------------


def read_csv(content: bytes, *, day: date | None = None) -> ParsedStatement:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _malformed("not UTF-8 text") from None
    if "\x00" in text:
        raise _malformed("not a text file")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    while rows and not rows[-1]:
        rows.pop()
    if not rows or rows[0] != CSV_HEADER:
        raise _malformed("header is not " + ",".join(CSV_HEADER))
    if len(rows) < 2 or not rows[-1] or rows[-1][0] != "#total" or len(rows[-1]) != 3:
        raise _malformed("last line is not #total,<entries>,<sum>")
    total = rows[-1]
    if not (total[1].isdigit() and total[1].isascii()):
        raise _malformed("#total: entries is not a number")
    declared_count = int(total[1])
    declared_sum = _amount(total[2], "#total")
    lines: list[StatementLine] = []
    refs: set[str] = set()
    for number, row in enumerate(rows[1:-1], start=2):
        if len(row) != len(CSV_HEADER):
            raise _malformed(f"line {number}: {len(row)} fields instead of {len(CSV_HEADER)}")
        ref, booked, reference, amount, direction, reversal = row
        refs.add(_identifier(ref, f"line {number} statement_id"))
        if direction not in {"debit", "credit"} or reversal not in {"true", "false"}:
            raise _malformed(f"line {number}: direction is debit or credit, reversal true or false")
        if (direction == "credit") != (reversal == "true"):
            raise _malformed(f"line {number}: only a reversal brings money back")
        lines.append(
            StatementLine(
                _identifier(reference, f"line {number} end_to_end_id"),
                _amount(amount, f"line {number}"),
                direction == "debit",
                _day(booked, f"line {number} booked_on"),
            )
        )
    if len(refs) > 1:
        raise _malformed("lines of several statements in one file")
    entry_sum = sum(line.amount for line in lines)
    if declared_count != len(lines) or declared_sum != entry_sum:
        raise StatementControlMismatch(
            details={
                "declared_entries": declared_count,
                "entries": len(lines),
                "declared_sum": declared_sum,
                "sum": entry_sum,
            }
        )
    if lines:
        period = (min(line.booked_on for line in lines), max(line.booked_on for line in lines))
        statement_ref = refs.pop()
    elif day is not None:
        period, statement_ref = (day, day), f"CSV-{day:%Y%m%d}"
    else:
        raise _malformed("an empty CSV statement names no statement: give its date")
    return ParsedStatement(
        statement_ref=statement_ref,
        format=StatementFormat.csv,
        period_from=period[0],
        period_to=period[1],
        entries=len(lines),
        control_sum=entry_sum,
        sha256=hashlib.sha256(content).digest(),
        lines=lines,
    )


# fetching ---------------------------------------------------------------------------------------------------


def fetch_statement(provider: PayoutProvider, day: date, fmt: StatementFormat, *, now: datetime) -> bytes:
    """``GET {base}/statements/{date}.camt053|.csv``, signed; ``StatementUnavailable`` on any refusal or failure."""
    extension = "camt053" if fmt == StatementFormat.camt053 else "csv"
    url = f"{provider.api_base_url.rstrip('/')}/statements/{day.isoformat()}.{extension}"
    headers = signing.request_headers(provider.api_secret, now=now, method="GET", path=urlsplit(url).path, body=b"")
    try:
        response = httpx.get(url, headers=headers, timeout=FETCH_TIMEOUT)
    except httpx.HTTPError as error:
        raise StatementUnavailable(details={"provider": provider.code, "reason": type(error).__name__}) from None
    if response.status_code != 200:
        raise StatementUnavailable(details={"provider": provider.code, "status": response.status_code})
    return response.content
