"""Pure decisions of the recipient register: card numbers and the shape a card number is typed in."""

from __future__ import annotations

import re
import secrets

CARD_NUMBER = re.compile(r"[0-9]{16}")


def new_card_number() -> str:
    """16 random digits, not starting with 0 (uniqueness is enforced by the database)."""
    return str(secrets.randbelow(9) + 1) + "".join(str(secrets.randbelow(10)) for _ in range(15))


def card_number_shape_ok(card_number: str) -> bool:
    """Exactly 16 ASCII digits (after trimming spaces)."""
    return CARD_NUMBER.fullmatch(card_number.strip()) is not None
