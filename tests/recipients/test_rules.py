"""Card numbers: pure rules, no database."""

from __future__ import annotations

import pytest

from prakerja.recipients import rules


def test_card_numbers_are_16_digits() -> None:
    numbers = {rules.new_card_number() for _ in range(200)}
    assert all(len(n) == 16 and n.isdigit() and n[0] != "0" for n in numbers) and len(numbers) == 200


@pytest.mark.parametrize(
    ("typed", "ok"),
    [
        ("5123456789012345", True),
        (" 5123456789012345 ", True),
        ("512345678901234", False),
        ("51234567890123456", False),
        ("5123-4567-8901-2345", False),
        ("５１２３４５６７８９０１２３４５", False),  # full-width digits are not ASCII digits
    ],
)
def test_a_card_number_is_typed_as_16_ascii_digits(typed: str, ok: bool) -> None:
    assert rules.card_number_shape_ok(typed) is ok
