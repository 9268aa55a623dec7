"""Bodies and answers of the marketplace endpoints (contract ``marketplace-api.md`` sections 1 and 2). Unknown
fields are refused; amounts are whole rupiah; times RFC 3339."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time zone is required (RFC 3339, e.g. 2026-03-02T09:00:00Z)")
    return value


_CONTROL = re.compile(r"[\x00-\x1f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):  # a character below U+0020 (one regex scan, not a Python step per character)
        raise ValueError("control characters are not allowed")
    return value.strip()


Text = Annotated[str, AfterValidator(_printable)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardInquiry(_Body):
    card_number: str = Field(min_length=1, max_length=32)


class PurchaseCreate(_Body):
    card_number: str = Field(min_length=1, max_length=32)
    course_id: str = Field(min_length=1, max_length=64)
    platform_order_id: Text = Field(min_length=1, max_length=100)
    platform_account_id: Text = Field(min_length=1, max_length=200)


class PurchaseConfirm(_Body):
    otp: str = Field(min_length=1, max_length=16)


class PurchaseCancel(_Body):
    reason: Text = Field(min_length=1, max_length=200)


class VoucherRedeem(_Body):
    voucher_code: str = Field(min_length=1, max_length=32)


class RedeemCodeIn(_Body):
    redeem_code: str = Field(min_length=1, max_length=32)
    training_type: Literal["online", "offline"] | None = None
    """Where the code is being used (an addition to the contract): a code of another type is refused
    (``redeem_code_type_mismatch``). Absent: the session's own type."""


class CompletionCreate(_Body):
    purchase_id: str = Field(min_length=1, max_length=64)
    completed_at: Annotated[datetime, AfterValidator(_aware)]
    score: StrictInt = Field(ge=0, le=100)
    passed: StrictBool


class CardOut(BaseModel):
    card_number_masked: str
    name_masked: str
    balance: int
    status: str
    first_purchase_deadline: datetime


class PurchaseCreated(BaseModel):
    purchase_id: str
    status: str
    amount: int
    otp_expires_at: datetime


class PurchaseConfirmed(BaseModel):
    purchase_id: str
    status: str
    voucher_code: str
    amount: int
    balance_after: int


class PurchaseCancelled(BaseModel):
    purchase_id: str
    status: str
    balance_after: int


class PurchaseSession(BaseModel):
    session_id: str
    starts_at: datetime
    training_type: str
    cancelled: bool


class PurchaseOut(BaseModel):
    purchase_id: str
    status: str
    course_id: str
    amount: int
    voucher_code: str | None
    sessions: list[PurchaseSession]


class VoucherSession(BaseModel):
    session_id: str
    starts_at: datetime


class VoucherRedeemed(BaseModel):
    purchase_id: str
    course_id: str
    participant_name_masked: str
    sessions: list[VoucherSession]


class RedeemCodeStatus(BaseModel):
    redeem_code: str
    state: str
    session_id: str
    valid_from: datetime
    valid_until: datetime


class RedeemCodeCommitted(BaseModel):
    redeem_code: str
    state: str
    session_id: str
    attended_at: datetime


class CompletionOut(BaseModel):
    completion_id: str
    status: str
    certificate_id: str | None
