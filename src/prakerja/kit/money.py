"""Money is whole rupiah in ``int``. Never a float."""

from __future__ import annotations

from prakerja.kit.digits import read_number

Rupiah = int


class MoneyError(ValueError):
    pass


def rupiah(value: object) -> Rupiah:
    """Accept an int (or a string of digits) and return it; refuse floats, bools and fractions."""
    if isinstance(value, bool):
        raise MoneyError("a boolean is not an amount")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        number = read_number(text[1:] if text.startswith("-") else text)
        if number is not None:
            return -int(number) if text.startswith("-") else int(number)
    raise MoneyError(f"not a whole-rupiah amount: {value!r}")


def format_rupiah(amount: Rupiah) -> str:
    """``1000000`` -> ``Rp1.000.000`` (Indonesian grouping, no decimals)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"not a whole-rupiah amount: {amount!r}")
    sign = "-" if amount < 0 else ""
    grouped = f"{abs(amount):,}".replace(",", ".")
    return f"{sign}Rp{grouped}"
