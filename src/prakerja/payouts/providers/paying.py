"""Paying through a partner's bulk payout API (docs/payouts-partner-interface.md section 4.1 and 4.2's file
upload), every request signed (section 2). The calls say what happened and never guess: an answer the client did
not get (timeout, connection lost, 5xx) is :class:`Unknown`, which the caller resolves by asking the partner for
each end-to-end id before it sends any of them again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from prakerja.kit.clock import utcnow
from prakerja.payouts.providers import signing

SEND_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
QUERY_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
FILE_TIMEOUT = httpx.Timeout(600.0, connect=3.0)
"""A pain.001 upload or a pain.002 download: one file per batch, up to hundreds of thousands of transactions that
the partner reads or writes before it answers."""
STATUSES = ("received", "succeeded", "failed", "reversed")


@dataclass(frozen=True)
class Partner:
    """Where a provider's interface is and the secret that signs requests to it."""

    code: str
    base_url: str
    secret: str


@dataclass(frozen=True)
class Outgoing:
    """One instruction as the partner receives it."""

    end_to_end_id: str
    number: str
    amount: int
    name: str
    remittance: str = ""
    """What the payment is for (a settlement names the statement it pays); empty for an incentive."""


@dataclass(frozen=True)
class Accepted:
    batch_id: str
    accepted: int


@dataclass(frozen=True)
class Refused:
    """The partner answered and took nothing (4xx): ``code`` says why."""

    status: int
    code: str


@dataclass(frozen=True)
class Unknown:
    """No usable answer (timeout, connection error, 5xx): the partner may or may not have taken the batch."""

    reason: str


@dataclass(frozen=True)
class Report:
    """What the partner says of one end-to-end id (a callback, a status answer or a pain.002 line)."""

    end_to_end_id: str
    status: str
    reason: str | None
    amount: int | None
    occurred_at: datetime | None


class PartnerUnavailable(Exception):
    """The partner did not answer a status query usably; try again later."""


def _signed(partner: Partner, method: str, suffix: str, body: bytes) -> tuple[str, dict[str, str]]:
    url = partner.base_url.rstrip("/") + suffix
    headers = signing.request_headers(partner.secret, now=utcnow(), method=method, path=urlsplit(url).path, body=body)
    return url, headers


def send_batch(
    client: httpx.Client, partner: Partner, batch_id: str, instructions: list[Outgoing]
) -> Accepted | Refused | Unknown:
    body = json.dumps(
        {
            "batch_id": batch_id,
            "count": len(instructions),
            "control_sum": sum(i.amount for i in instructions),
            "instructions": [
                {"end_to_end_id": i.end_to_end_id, "number": i.number, "amount": i.amount, "name": i.name}
                | ({"remittance": i.remittance} if i.remittance else {})
                for i in instructions
            ],
        },
        separators=(",", ":"),
    ).encode()
    url, headers = _signed(partner, "POST", "/payouts", body)
    try:
        answer = client.post(url, content=body, headers=headers, timeout=SEND_TIMEOUT)
    except httpx.HTTPError as error:
        return Unknown(type(error).__name__)
    if answer.status_code == 202:
        data = _json(answer)
        return Accepted(str(data.get("batch_id", batch_id)), int(data.get("accepted", 0)))
    if answer.status_code >= 500:
        return Unknown(f"http_{answer.status_code}")
    return Refused(answer.status_code, str(_json(answer).get("code", "refused")))


def query(client: httpx.Client, partner: Partner, end_to_end_id: str) -> Report | None:
    """The partner's status of one end-to-end id, or None when it never received it (safe to send again)."""
    url, headers = _signed(partner, "GET", f"/payouts/{end_to_end_id}", b"")
    try:
        answer = client.get(url, headers=headers, timeout=QUERY_TIMEOUT)
    except httpx.HTTPError as error:
        raise PartnerUnavailable(type(error).__name__) from None
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise PartnerUnavailable(f"http_{answer.status_code}")
    data = _json(answer)
    status = data.get("status")
    if data.get("end_to_end_id") != end_to_end_id or status not in STATUSES:
        raise PartnerUnavailable("malformed_status")
    amount = data.get("amount")
    return Report(
        end_to_end_id=end_to_end_id,
        status=str(status),
        reason=str(data["reason"]) if data.get("reason") else None,
        amount=amount if type(amount) is int else None,
        occurred_at=_time(data.get("updated_at")),
    )


def upload_pain001(
    client: httpx.Client, partner: Partner, message_id: str, document: bytes
) -> Accepted | Refused | Unknown:
    url, headers = _signed(partner, "PUT", f"/files/pain.001/{message_id}", document)
    headers["content-type"] = "application/xml"
    try:
        answer = client.put(url, content=document, headers=headers, timeout=FILE_TIMEOUT)
    except httpx.HTTPError as error:
        return Unknown(type(error).__name__)
    if answer.status_code == 202:
        return Accepted(message_id, 0)
    if answer.status_code >= 500:
        return Unknown(f"http_{answer.status_code}")
    return Refused(answer.status_code, str(_json(answer).get("code", "refused")))


def fetch_pain002(client: httpx.Client, partner: Partner, message_id: str) -> bytes | None:
    """The status report of an uploaded file, or None while the partner has not made it."""
    url, headers = _signed(partner, "GET", f"/files/pain.002/{message_id}", b"")
    try:
        answer = client.get(url, headers=headers, timeout=FILE_TIMEOUT)
    except httpx.HTTPError as error:
        raise PartnerUnavailable(type(error).__name__) from None
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise PartnerUnavailable(f"http_{answer.status_code}")
    return answer.content


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
