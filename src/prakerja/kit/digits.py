"""Numbers people type: one policy for every digit the platform reads (phone, NIK, KK, OTP, region codes, lists,
wave references, amounts).

**Policy: ASCII digits ``0-9`` only; anything else is refused.** ``str.isdigit()``, ``isnumeric()``,
``isdecimal()`` and ``int()`` accept Arabic-Indic (``١``), Devanagari, fullwidth and other digits, and ``isdigit()``
even superscripts (``²``) that ``int()`` then rejects. A number written with them is refused as malformed, never
read as another number: so ``08١٢...`` is not a phone number (it cannot slip past the one-phone-per-applicant rule
under a different blind index), a NIK in such digits is an invalid row in a list import, and no look-alike reaches
``int()``. Indonesian keyboards type ASCII digits; the identity rules always refused the others.

Never call those ``str`` methods or ``int()`` on raw input: use :func:`is_ascii_number` or :func:`read_number`."""

from __future__ import annotations


def is_ascii_number(value: str) -> bool:
    """True for a non-empty string of ASCII digits ``0-9`` only."""
    return value.isascii() and value.isdigit()


def read_number(value: str) -> str | None:
    """``value`` when it is ASCII digits only (see the module policy), else None."""
    return value if is_ascii_number(value) else None
