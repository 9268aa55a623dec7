"""Signed requests, the pure part (contract section 1): the string that is signed, the signature, the window.

``signature = lowercase hex HMAC-SHA256(key, client_code + timestamp + METHOD + path + raw_body)``, the
concatenation of UTF-8 strings and the body's bytes with no separators; ``path`` carries the query string exactly
as sent.

Webhooks (contract section 4): the event's data and body, the endpoint's URL, and when to try again."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

WINDOW = timedelta(seconds=300)
"""How far a request's timestamp may be from our clock, either way; also how long a signature is remembered."""
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
"""Methods whose body is read: a body that cannot be read is 400 ``malformed_body``."""
"""Methods that must carry an ``Idempotency-Key``."""

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


def signing_string(client_code: str, timestamp: str, method: str, path: str | bytes, body: bytes) -> bytes:
    raw_path = path if isinstance(path, bytes) else path.encode()
    return client_code.encode() + timestamp.encode() + method.upper().encode() + raw_path + body


def sign(key: bytes, client_code: str, timestamp: str, method: str, path: str | bytes, body: bytes) -> str:
    """What the partner sends in the ``signature`` header (and what we compute to compare with it)."""
    message = signing_string(client_code, timestamp, method, path, body)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def well_formed_signature(value: str) -> bool:
    return bool(_SIGNATURE.match(value))


def parse_timestamp(value: str) -> int | None:
    """Whole Unix seconds as decimal digits, or None."""
    return int(value) if _TIMESTAMP.match(value) else None


def fresh(timestamp: int, now: datetime) -> bool:
    return abs(now.timestamp() - timestamp) <= WINDOW.total_seconds()


def matches(expected: str, sent: str) -> bool:
    """Constant-time comparison of two lowercase hex signatures."""
    return hmac.compare_digest(expected.encode(), sent.encode())


# --- webhooks we send (contract section 4): the pure part -----------------------------------------------------

WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
WEBHOOK_SECRET_BYTES = 24
RETRY_FOR = timedelta(days=3)
"""Retries stop once the next one would come later than this after the first attempt."""
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=12)
"""Exponential backoff doubles from :data:`FIRST_RETRY` up to this."""
LONGEST_RETRY_AFTER = timedelta(hours=24)
"""A receiver's ``Retry-After`` is honoured up to this."""
MAX_DATA_BYTES = 4096
ROTATION_GRACE = timedelta(hours=24)
"""After a secret is rotated, attempts are signed with the old secret too for this long."""

_WEBHOOK_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
_DATA_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
PERSONAL_KEYS = frozenset(
    {
        "nik",
        "kk",
        "name",
        "full_name",
        "participant_name",
        "mother_name",
        "birth_date",
        "date_of_birth",
        "phone",
        "phone_number",
        "email",
        "address",
        "card_number",
        "account_number",
        "otp",
    }
)
"""Keys that would carry personal data or secrets; a webhook's ``data`` carries ids (marketplace-api.md s. 3)."""
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def well_formed_webhook_id(value: str) -> bool:
    return bool(_WEBHOOK_ID.match(value))


def data_problems(data: object) -> list[str]:
    """Why ``data`` cannot go into a webhook body: a flat object of snake_case keys with scalar values (ids,
    statuses, amounts, times), no personal data. Empty when it can."""
    if not isinstance(data, dict):
        return ["data must be an object"]
    problems = []
    for key, value in data.items():
        if not isinstance(key, str) or not _DATA_KEY.match(key):
            problems.append(f"key {key!r} is not snake_case")
        elif key in PERSONAL_KEYS:
            problems.append(f"key {key!r} would carry personal data")
        if value is not None and not isinstance(value, str | int | bool):
            problems.append(f"value of {key!r} must be a string, integer, boolean or null")
        elif isinstance(value, str) and len(value) > 200:
            problems.append(f"value of {key!r} is longer than 200 characters")
    return problems


def rfc3339(moment: datetime) -> str:
    """UTC with a ``Z``, to the microsecond: ``2026-03-02T09:00:00.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def webhook_body(event_type: str, timestamp: datetime, data: dict[str, Any]) -> str:
    """The body, fixed once per event: ``{"type", "timestamp", "data"}`` as compact ASCII JSON."""
    return json.dumps(
        {"type": event_type, "timestamp": rfc3339(timestamp), "data": data}, separators=(",", ":"), ensure_ascii=True
    )


def url_problem(url: str, *, production: bool) -> str | None:
    """Why an endpoint URL is refused, or None. https always; http only to a loopback host outside production;
    in production no loopback, private or link-local address literal either."""
    if len(url) > 500 or any(c.isspace() for c in url):
        return "at most 500 characters, no spaces"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        return "an absolute https:// URL"
    if parts.username or parts.password:
        return "no user name or password in the URL"
    if parts.fragment:
        return "no #fragment"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = host in LOOPBACK_HOSTS or (address is not None and address.is_loopback)
    if parts.scheme == "http" and (production or not loopback):
        return "https required (http only to a loopback address in development and test)"
    if production and (
        loopback or (address is not None and (address.is_private or address.is_link_local or address.is_reserved))
    ):
        return "a public address"
    return None


def retryable(status_code: int | None) -> bool:
    """No answer (timeout, network), 5xx and 429 are tried again; anything else is final."""
    return status_code is None or status_code == 429 or status_code >= 500


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value[:9]))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when - now, timedelta(0))


def next_attempt_at(
    *, attempts: int, first_attempt_at: datetime, now: datetime, retry_after: timedelta | None, jitter: float
) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or None to give up. Exponential backoff from
    :data:`FIRST_RETRY` doubling up to :data:`LONGEST_WAIT`, with ``jitter`` (0..1) taking off up to half; a
    ``Retry-After`` is waited at least (up to :data:`LONGEST_RETRY_AFTER`). Retries stop after
    :data:`RETRY_FOR` from the first attempt."""
    wait = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)
    wait = wait * (1 - 0.5 * min(max(jitter, 0.0), 1.0))
    if retry_after is not None:
        wait = max(wait, min(retry_after, LONGEST_RETRY_AFTER))
    when = now + wait
    return when if when - first_attempt_at <= RETRY_FOR else None


# --- organisations: designation and profile -----------------------------------------------------------------

REACH_NUMERATOR, REACH_DENOMINATOR = 2, 3
"""A platform must reach at least two thirds of the provinces (Permenko 11/2020 on platform requirements)."""
_NIB = re.compile(r"^[0-9]{13}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{6,18}[0-9]$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
DOCUMENT_KINDS = ("deed", "nib", "licence", "tax_number", "other")
"""Akta pendirian, NIB, izin (e.g. LPK licence), NPWP, anything else."""


def reach_required(total_provinces: int) -> int:
    """Provinces a platform must reach: two thirds of all, rounded up (26 of 38)."""
    return -(-total_provinces * REACH_NUMERATOR // REACH_DENOMINATOR)


def status_change_allowed(current: str, new: str) -> bool:
    """Designated and suspended go back and forth; delisted is final."""
    return current != "delisted" and new != current


def valid_nib(value: str) -> bool:
    return bool(_NIB.match(value))


def valid_phone(value: str) -> bool:
    return bool(_PHONE.match(value))


def valid_email(value: str) -> bool:
    return len(value) <= 254 and bool(_EMAIL.match(value))


def clean_text(value: str, limit: int) -> str | None:
    """One line with single spaces, or None when too long or with ``<``/``>`` or control characters."""
    cleaned = " ".join(value.split())
    if len(cleaned) > limit or any(c in cleaned for c in "<>"):
        return None
    return cleaned
