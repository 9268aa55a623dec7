"""Numbers people type: one policy for every digit the platform reads (phone, NIK, KK, OTP, region codes, lists).

**Policy.** Every Unicode decimal digit (category ``Nd``: Arabic-Indic ``١``, Extended Arabic-Indic ``۱``,
Devanagari ``१``, fullwidth ``１`` ...) is mapped to its ASCII digit first; afterwards a number must consist of the
ASCII digits ``0-9`` only. Other characters that ``str.isdigit()`` accepts but that are not decimal digits
(superscripts ``²``, circled ``①``) are refused, as is anything else. So ``08١٢...`` is the same phone number as
``0812...`` (and meets the one-phone-per-applicant rule), and is stored and indexed in ASCII.

Never use ``str.isdigit()``/``isnumeric()``/``isdecimal()`` or ``int()`` on raw input: they accept non-ASCII digits."""

from __future__ import annotations

import unicodedata


def ascii_digits(value: str) -> str:
    """``value`` with every Unicode decimal digit replaced by its ASCII digit; other characters unchanged."""
    if value.isascii():
        return value
    return "".join(
        str(unicodedata.decimal(char)) if not char.isascii() and unicodedata.category(char) == "Nd" else char
        for char in value
    )


def is_ascii_number(value: str) -> bool:
    """True for a non-empty string of ASCII digits ``0-9`` only."""
    return value.isascii() and value.isdigit()


def read_number(value: str) -> str | None:
    """The ASCII digits of ``value`` after mapping (see the module policy), or None when anything else is left."""
    mapped = ascii_digits(value)
    return mapped if is_ascii_number(mapped) else None
