"""Pure rules of payouts: identifiers the partners see, and how an account number is shown."""

from __future__ import annotations

import hashlib
import uuid

END_TO_END_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: no I, L, O or U to misread on a statement."""


def end_to_end_id(entitlement_or_ref: uuid.UUID | str, attempt: int) -> str:
    """The stable ISO 20022 EndToEndId of the ``attempt``-th instruction for one entitlement (or one provider
    settlement reference): ``PKJ`` + 26 base32 characters of a SHA-256 over both, at most 35 characters. The same
    inputs give the same id, so an instruction re-created after a crash carries the id the partner already knows."""
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    digest = hashlib.sha256(f"{entitlement_or_ref}:{attempt}".encode()).digest()
    number = int.from_bytes(digest[:17], "big") >> 6  # 130 bits -> 26 characters of 5 bits
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(END_TO_END_ALPHABET[digit])
    return "PKJ" + "".join(reversed(chars))


def mask_number(number: str) -> str:
    """``1234567890`` -> ``******7890``: enough for the holder to recognise the account, nothing more."""
    digits = number.strip()
    visible = digits[-4:]
    return "*" * max(len(digits) - 4, 2) + visible
