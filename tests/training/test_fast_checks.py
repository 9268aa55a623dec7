"""Two per-character Python loops of the purchase replaced by one C call each (ADR 0042): the same answers."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.training.schemas import _printable
from prakerja.training.service import purchases
from prakerja.training.service.purchases import CODE_ALPHABET, draw_code


def _printable_before(value: str) -> str:
    if any(ord(c) < 32 for c in value):
        raise ValueError("control characters are not allowed")
    return value.strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x3000), max_size=40))
def test_the_control_character_check_is_the_loops(value: str) -> None:
    try:
        expected: str | type[ValueError] = _printable_before(value)
    except ValueError:
        expected = ValueError
    try:
        got: str | type[ValueError] = _printable(value)
    except ValueError:
        got = ValueError
    assert got == expected


@pytest.mark.parametrize("value", ["", "\x00", "a\x1fb", "\x7f", " x ", "\u2028", "akun-1\t"])
def test_edge_characters(value: str) -> None:
    test_the_control_character_check_is_the_loops.hypothesis.inner_test(value)  # type: ignore[attr-defined]


def test_a_code_is_each_random_bytes_low_five_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    every_byte = bytes(range(256))
    monkeypatch.setattr(secrets, "token_bytes", lambda n: every_byte[:n])
    assert draw_code(256) == "".join(CODE_ALPHABET[b & 31] for b in every_byte)
    monkeypatch.undo()
    code = draw_code(12)
    assert len(code) == 12 and set(code) <= set(CODE_ALPHABET)
    assert purchases.draw_code is draw_code
