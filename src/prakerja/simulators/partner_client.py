"""A partner's client for the program's signed API (``/partner/v1``), written from the contracts alone
(``shared/contracts/partner-api.md`` and ``marketplace-api.md``), as a platform or institution would write it.

It imports nothing of the program: only httpx and the standard library. Every request is signed
(HMAC-SHA256 over ``client_code + timestamp + METHOD + path + raw_body``, headers ``client_code``, ``timestamp``,
``signature``); every write carries an ``Idempotency-Key`` (a new one per intent unless the caller gives a stable
one); a request whose signature was already sent within the replay window gets a ``nonce`` query parameter so
that two identical requests in the same second differ (contract section 1). Refusals raise :class:`PartnerError`
with the contract's stable code.

:class:`SimClock` is the time the simulators sign with and stamp completions with: the system clock, shifted or
frozen at run time (``POST /_clock``) so a simulator can follow a program whose clock is frozen in a test or demo."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

PREFIX = "/partner/v1"
REPLAY_WINDOW_SECONDS = 300


def sign(key: bytes, client_code: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``client_code + timestamp + METHOD + path + raw_body`` (no separators)."""
    message = client_code.encode() + timestamp.encode() + method.upper().encode() + path.encode() + body
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_idempotency_key(prefix: str = "sim") -> str:
    return f"{prefix}-{secrets.token_hex(16)}"


# --- time ---------------------------------------------------------------------------------------------------------


class SimClock:
    """System time, or shifted by an offset, or frozen (for a program whose own clock is frozen)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def set(self, *, now: datetime | None = None, offset_seconds: float | None = None) -> None:
        """Freeze at ``now``, or follow the system clock shifted by ``offset_seconds``; neither: the system clock."""
        if now is not None and now.tzinfo is None:
            raise ValueError("now must carry its offset")
        with self._lock:
            self._frozen = now.astimezone(UTC) if now is not None else None
            self._offset = timedelta(seconds=offset_seconds or 0)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            frozen, offset = self._frozen, self._offset
        return {
            "now": rfc3339(self.now()),
            "frozen": frozen is not None,
            "offset_seconds": offset.total_seconds(),
        }


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a time with its offset, e.g. 2026-03-02T09:00:00Z")
    return parsed


# --- credentials --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    client_code: str
    key: str
    """The signing key as issued (its UTF-8 bytes are the HMAC key)."""


_LINE = re.compile(r"^\s*(client_code|key)\s*[:=]?\s+(\S+)\s*$")


def load_credentials(path: Path) -> Credentials:
    """A credentials file: JSON ``{"client_code", "key"}``, or the lines the program office hands over
    (``client_code  ...`` and ``key  ...``, as ``prakerja partner key-issue`` prints them)."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        data = {}
        for line in text.splitlines():
            match = _LINE.match(line)
            if match:
                data[match.group(1)] = match.group(2)
    if not isinstance(data, dict) or not data.get("client_code") or not data.get("key"):
        raise ValueError(f"{path}: expected client_code and key")
    return Credentials(client_code=str(data["client_code"]), key=str(data["key"]))


def resolve_credentials(client_code: str | None, key: str | None) -> Credentials:
    """``--key`` is the key itself or a credentials file (which may also carry the client code)."""
    if key and Path(key).is_file():
        found = load_credentials(Path(key))
        return Credentials(client_code=client_code or found.client_code, key=found.key)
    if not client_code or not key:
        raise ValueError("give --client-code and --key (the key, or a credentials file)")
    return Credentials(client_code=client_code, key=key)


# --- the client ---------------------------------------------------------------------------------------------------


class PartnerError(Exception):
    """A refusal from the program: the HTTP status and the contract's stable code."""

    def __init__(self, status: int, code: str, message: str = "", message_en: str = "", details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message_en or message}")
        self.status = status
        self.code = code
        self.message = message
        self.message_en = message_en
        self.details = details or {}


@dataclass
class PartnerClient:
    """Signed calls to ``/partner/v1``. ``http`` is any httpx client whose base URL is the program's."""

    credentials: Credentials
    http: httpx.Client
    clock: SimClock = field(default_factory=SimClock)
    _sent: OrderedDict[str, int] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def connect(cls, api_url: str, credentials: Credentials, clock: SimClock | None = None) -> PartnerClient:
        http = httpx.Client(base_url=api_url.rstrip("/"), timeout=httpx.Timeout(30.0, connect=5.0))
        return cls(credentials=credentials, http=http, clock=clock or SimClock())

    def _signed(self, method: str, path: str, body: bytes) -> tuple[str, dict[str, str]]:
        """The path to send (with a nonce when needed) and the signature headers."""
        with self._lock:
            stamp = int(self.clock.now().timestamp())
            for old, at in list(self._sent.items()):
                if abs(stamp - at) <= REPLAY_WINDOW_SECONDS:
                    break
                del self._sent[old]
            sent_path = path
            while True:
                signature = sign(
                    self.credentials.key.encode(), self.credentials.client_code, str(stamp), method, sent_path, body
                )
                if signature not in self._sent:
                    break
                sent_path = f"{path}{'&' if '?' in path else '?'}nonce={secrets.token_hex(8)}"
            self._sent[signature] = stamp
        headers = {"client_code": self.credentials.client_code, "timestamp": str(stamp), "signature": signature}
        return sent_path, headers

    def request(
        self, method: str, path: str, payload: Any = None, *, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        """Send one signed request; return (status, JSON body) on 2xx, raise :class:`PartnerError` otherwise."""
        method = method.upper()
        full = path if path.startswith(PREFIX) else PREFIX + path
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        sent_path, headers = self._signed(method, full, body)
        if body:
            headers["content-type"] = "application/json"
        if method in {"POST", "PUT", "PATCH", "DELETE"}:
            headers["Idempotency-Key"] = idempotency_key or new_idempotency_key()
        response = self.http.request(method, sent_path, content=body, headers=headers)
        try:
            data = response.json()
        except ValueError:
            data = None
        if 200 <= response.status_code < 300:
            return response.status_code, data
        if isinstance(data, dict) and isinstance(data.get("code"), str):
            raise PartnerError(
                response.status_code,
                data["code"],
                str(data.get("message", "")),
                str(data.get("message_en", "")),
                data.get("details"),
            )
        raise PartnerError(response.status_code, f"http_{response.status_code}", response.text[:200])

    # platforms (marketplace-api.md section 1)
    def put_listing(self, course_id: str, *, url: str, price: int, idempotency_key: str | None = None) -> Any:
        return self.request(
            "PUT", f"/listings/{course_id}", {"url": url, "price": price}, idempotency_key=idempotency_key
        )[1]

    def card_inquiry(self, card_number: str) -> Any:
        return self.request("POST", "/cards/inquiry", {"card_number": card_number})[1]

    def create_purchase(
        self,
        *,
        card_number: str,
        course_id: str,
        platform_order_id: str,
        platform_account_id: str,
        idempotency_key: str | None = None,
    ) -> Any:
        payload = {
            "card_number": card_number,
            "course_id": course_id,
            "platform_order_id": platform_order_id,
            "platform_account_id": platform_account_id,
        }
        return self.request("POST", "/purchases", payload, idempotency_key=idempotency_key)[1]

    def confirm_purchase(self, purchase_id: str, otp: str) -> Any:
        return self.request("POST", f"/purchases/{purchase_id}/confirm", {"otp": otp})[1]

    def cancel_purchase(self, purchase_id: str, reason: str) -> Any:
        return self.request("POST", f"/purchases/{purchase_id}/cancel", {"reason": reason})[1]

    def get_purchase(self, purchase_id: str) -> Any:
        return self.request("GET", f"/purchases/{purchase_id}")[1]

    # institutions (marketplace-api.md section 2)
    def submit_course(self, course: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        return self.request("POST", "/courses", course, idempotency_key=idempotency_key)[1]

    def get_course(self, course_id: str) -> Any:
        return self.request("GET", f"/courses/{course_id}")[1]

    def redeem_voucher(self, voucher_code: str) -> Any:
        return self.request("POST", "/vouchers/redeem", {"voucher_code": voucher_code})[1]

    def redeem_code_status(self, redeem_code: str) -> Any:
        return self.request("POST", "/redeem-codes/status", {"redeem_code": redeem_code})[1]

    def commit_redeem_code(self, redeem_code: str) -> Any:
        return self.request("POST", "/redeem-codes/commit", {"redeem_code": redeem_code})[1]

    def report_completion(self, *, purchase_id: str, completed_at: datetime, score: int, passed: bool) -> Any:
        payload = {"purchase_id": purchase_id, "completed_at": rfc3339(completed_at), "score": score, "passed": passed}
        return self.request("POST", "/completions", payload)[1]

    def webhook_deliveries(self) -> Any:
        return self.request("GET", "/webhook-deliveries")[1]

    def close(self) -> None:
        self.http.close()
