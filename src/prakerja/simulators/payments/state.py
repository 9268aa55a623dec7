"""What a simulated partner knows: its customers' accounts, link sessions, what it was asked to pay and paid, and
the faults it is told to inject. Everything lives in memory of the simulator's process (it outlives the program's
workers it serves, so a worker killed mid-run finds the partner as it left it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

FAULTS = ("invalid_account", "timeout", "server_error", "duplicate_callback", "delayed_callback", "reversal")
"""Fault rates (0-1) a partner can be told to inject (docs/payouts-partner-interface.md section 6)."""

JAKARTA = ZoneInfo("Asia/Jakarta")
"""Partners book in Indonesian western time: a statement's date is a Jakarta day."""


@dataclass
class Customer:
    """An account the partner holds: a bank account number or an e-wallet's phone number."""

    number: str
    holder_name: str
    nik: str
    phone: str
    active: bool = True
    kyc: bool = True


@dataclass
class LinkSession:
    reference: str
    number: str
    otp: str | None = None
    expires_at: datetime | None = None
    attempts: int = 0
    status: str = "inquired"
    """``inquired``, ``otp_sent``, ``linked`` or ``locked``."""


@dataclass
class Payment:
    """One instruction as the partner knows it, by its end-to-end id."""

    end_to_end_id: str
    number: str
    amount: int
    batch_id: str
    remittance: str = ""
    """The remittance information sent with it (a settlement names the statement it pays)."""
    status: str = "received"
    """``received``, ``succeeded``, ``failed`` or ``reversed``."""
    reason: str = ""
    times_paid: int = 0
    """How many times money actually left for it: anything above 1 is a duplicate payment."""
    updated_at: datetime | None = None
    booked_on: date | None = None
    """The day (Jakarta) money left for it: its debit lines on that day's statement (``times_paid`` of them)."""
    reversed_on: date | None = None
    """The day (Jakarta) the money came back: a credit line marked as a reversal on that day's statement."""

    def mark_paid(self, at: datetime) -> None:
        """Money leaves for it (once more, if it already did: ``times_paid`` counts duplicates)."""
        self.status = "succeeded"
        self.times_paid += 1
        self.updated_at = at
        self.booked_on = at.astimezone(JAKARTA).date()

    def mark_reversed(self, at: datetime, reason: str = "") -> None:
        """A payment the partner made comes back (the account was closed after it, a fraud hold...)."""
        self.status = "reversed"
        self.reason = reason
        self.updated_at = at
        self.reversed_on = at.astimezone(JAKARTA).date()

    def booked(self) -> date | None:
        """The booking day of a payment that left (``booked_on``, or the day of its last change when whoever paid it
        did not record one); None when it never left."""
        if self.times_paid < 1 and self.status not in {"succeeded", "reversed"}:
            return None
        if self.booked_on is not None:
            return self.booked_on
        return self.updated_at.astimezone(JAKARTA).date() if self.updated_at is not None else None

    def reversed_day(self) -> date | None:
        """The day (Jakarta) a reversed payment's money came back (``reversed_on``, or the day of its last change)."""
        if self.status != "reversed":
            return None
        if self.reversed_on is not None:
            return self.reversed_on
        return self.updated_at.astimezone(JAKARTA).date() if self.updated_at is not None else None


@dataclass
class Partner:
    code: str
    kind: str
    """``bank`` or ``ewallet``."""
    secret: str
    """The shared ``whsec_...`` secret (requests to it and callbacks from it)."""
    customers: dict[str, Customer] = field(default_factory=dict)
    links: dict[str, LinkSession] = field(default_factory=dict)
    outbox: list[dict[str, str]] = field(default_factory=list)
    """OTP messages sent to holders: ``{"number", "otp", "at"}``."""
    payments: dict[str, Payment] = field(default_factory=dict)
    batches: dict[str, dict[str, object]] = field(default_factory=dict)
    """batch id -> the first answer given for it (a repeated batch gets the same answer)."""
    faults: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0.0))
    files: dict[str, list[str]] = field(default_factory=dict)
    """pain.001 message id -> the end-to-end ids it carried (the pain.002 answer lists them)."""
    callbacks: list[dict[str, object]] = field(default_factory=list)
    """Callbacks delivered to the program, with the program's answer status."""
    reversed: int = 0
    any_account: bool = False
    """Pay any well-formed number as if it were an active account (load tests without opening accounts)."""
    corrupt_statements: bool = False
    """Serve statements whose control totals do not match their entries (the program must refuse them)."""
    opening_balance: int = 1_000_000_000_000
    """What the program's account at the partner held before the first payout (the statements' balances)."""
    rng: random.Random = field(default_factory=lambda: random.Random(20))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, name: str) -> bool:
        rate = self.faults.get(name, 0.0)
        return rate > 0 and self.rng.random() < rate


@dataclass
class Simulator:
    partners: dict[str, Partner]
    program_url: str | None = None
    """Where callbacks go: ``{program_url}/payouts/v1/callbacks/{code}``."""


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def request_signature(secret: str, timestamp: int, method: str, path: str, body: bytes) -> str:
    """docs/payouts-partner-interface.md section 2, program -> partner."""
    message = f"{timestamp}.{method.upper()}.{path}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()


def callback_signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body``."""
    message = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), message, hashlib.sha256).digest()).decode()
