"""End-to-end ids are stable, short enough for ISO 20022 and distinct per attempt; masks hide all but four digits."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from prakerja.payouts import rules


@given(st.uuids(), st.integers(min_value=1, max_value=50))
def test_end_to_end_id_is_stable_and_fits_iso20022(ref: uuid.UUID, attempt: int) -> None:
    first = rules.end_to_end_id(ref, attempt)
    assert first == rules.end_to_end_id(str(ref), attempt)
    assert len(first) <= 35
    assert first.startswith("PKJ")
    assert set(first[3:]) <= set(rules.END_TO_END_ALPHABET)
    assert first != rules.end_to_end_id(ref, attempt + 1)


def test_attempt_starts_at_one() -> None:
    try:
        rules.end_to_end_id(uuid.uuid4(), 0)
    except ValueError:
        return
    raise AssertionError("attempt 0 accepted")


def test_mask_keeps_the_last_four() -> None:
    assert rules.mask_number("1234567890") == "******7890"
    assert rules.mask_number("081234") == "**1234"
