"""The audit entries' canonical form through the C JSON encoder is RFC 8785's, byte for byte (ADR 0042)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.audit import rules

# every code point a Python str can hold except lone surrogates (which UTF-8 cannot: both refuse them), weighted
# towards the characters where the two encoders could differ: control characters, quotes, backslashes, DEL,
# U+2028/U+2029, the top of the BMP and past it
_SPECIAL = st.sampled_from(
    [
        "\x00",
        "\x1f",
        "\x7f",
        '"',
        "\\",
        "/",
        "\b",
        "\f",
        "\n",
        "\r",
        "\t",
        "\u2028",
        "\u2029",
        "\ue000",
        "\uffff",
        "\U00010000",
        "\U0001f600",
        "\U0010ffff",
        "é",
        "ñ",
    ]
)
_TEXT = st.lists(st.one_of(_SPECIAL, st.characters(exclude_categories=["Cs"])), max_size=12).map("".join)
_KEY = _TEXT.filter(lambda key: all(ord(c) <= 0xFFFF for c in key))  # keys past the BMP: the fallback's (below)
_SAFE = 2**53 - 1
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-_SAFE, max_value=_SAFE),
    st.sampled_from([_SAFE, -_SAFE, 0, -1, 2**31, -(2**31)]),
    _TEXT,
)
_PLAIN = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(_KEY, inner, max_size=6),
    ),
    max_leaves=30,
)
_ANY = st.recursive(
    st.one_of(
        _SCALARS,
        st.integers(),  # past 2**53: rfc8785 refuses them
        st.floats(),  # NaN and infinities included: rfc8785's own form or refusal
        st.sampled_from([2**53, -(2**53), 10**30]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=20,
)


def _expected(value: Any) -> bytes | type[BaseException]:
    try:
        return rfc8785.dumps(value)
    except Exception as error:  # the refusal's type is what is compared
        return type(error)


def _got(value: Any) -> bytes | type[BaseException]:
    try:
        return rules.canonical_json(value)
    except Exception as error:
        return type(error)


class TestCanonicalJson:
    @settings(max_examples=600, deadline=None)
    @given(_PLAIN)
    def test_plain_values_take_the_fast_form_and_equal_rfc8785(self, value: Any) -> None:
        assert rules._plain(value)
        assert rules.canonical_json(value) == rfc8785.dumps(value)

    @settings(max_examples=600, deadline=None)
    @given(_ANY)
    def test_any_value_equals_rfc8785_or_is_refused_the_same(self, value: Any) -> None:
        assert _got(value) == _expected(value)

    @pytest.mark.parametrize(
        "value",
        [
            {"\U0001f600": 1, "\uffff": 2, "\ue000": 3, "a": 4},  # UTF-16 order differs from code points: fallback
            {"\U00010000": 1, "\ud7ff": 2},
            [1.5, 0.1, 1e21, -0.0, 5e-7],
            [2**53, -(2**53)],
            {"n": 2**53 - 1, "m": -(2**53) + 1},
            "\ud800",  # a lone surrogate: refused by both
            {"\udc00": 1},
            {1: "an int key"},
            {"b": [True, False, None, ""], "a": {"\x00\x1f\x7f": "\u2028"}},
        ],
    )
    def test_edge_values(self, value: Any) -> None:
        assert _got(value) == _expected(value)

    def test_keys_past_the_bmp_are_sorted_as_rfc8785_sorts_them(self) -> None:
        value = {"\U0001f600": 1, "\uffff": 2}
        assert not rules._plain(value)
        assert rules.canonical_json(value) == '{"\U0001f600":1,"\uffff":2}'.encode()

    def test_subclasses_and_floats_fall_back(self) -> None:
        class Colour(enum.StrEnum):
            RED = "red"

        class Level(enum.IntEnum):
            HIGH = 3

        for value in ({"c": Colour.RED}, [Level.HIGH], {"f": 1.0}, [2**53]):
            assert not rules._plain(value)
            assert _got(value) == _expected(value)

    def test_the_switch_gives_rfc8785_itself(self, monkeypatch: pytest.MonkeyPatch) -> None:
        value = {"b": "é\n", "a": [1, None]}
        fast = rules.canonical_json(value)
        monkeypatch.setattr(rules, "FAST_CANONICAL", False)
        assert rules.canonical_json(value) == fast == rfc8785.dumps(value)
