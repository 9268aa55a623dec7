"""The family-card cap plan as a pure rule: a readable case, then properties over random draws."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.selection.rules import KkCapChange, Seat, plan_kk_cap


def seat(name: str, stratum: str, kk: str | None, *, tier: int = 0, ticket: int = 0) -> Seat:
    return Seat(name.encode(), stratum, tier, bytes([ticket]), kk.encode() if kk else None)


def waitlists(lists: dict[str, list[Seat]]):  # type: ignore[no-untyped-def]
    def read(stratum: str) -> Iterator[Seat]:
        yield from lists.get(stratum, [])

    return read


def test_a_readable_case() -> None:
    """Card K has one recipient from an earlier wave and a cap of 2: of its three selected members only the best
    ranked (tier, then ticket) keeps a place; the others are replaced from their own stratum's waitlist, where the
    next member of K is passed over."""
    selected = [
        seat("k-a", "3201", "K", tier=0, ticket=9),
        seat("k-b", "3273", "K", tier=0, ticket=1),
        seat("k-c", "3273", "K", tier=1, ticket=0),
        seat("x", "3201", "X", ticket=5),
    ]
    waiting = {
        "3201": [seat("k-d", "3201", "K", tier=2), seat("y", "3201", "Y", tier=2)],
        "3273": [seat("z", "3273", None, tier=1)],
    }
    changes = plan_kk_cap(selected, cap=2, existing={b"K": 1}, waitlist=waitlists(waiting))
    assert changes == [
        KkCapChange(b"k-a", "3201", "disqualified", 2),
        KkCapChange(b"k-d", "3201", "passed_over", 2),
        KkCapChange(b"y", "3201", "promoted", 0, replaces=b"k-a"),
        KkCapChange(b"k-c", "3273", "disqualified", 2),
        KkCapChange(b"z", "3273", "promoted", 0, replaces=b"k-c"),
    ]


def test_promoted_before_counts_after_the_draw_selected() -> None:
    first = Seat(b"p", "3201", 0, b"\x00", b"K", promoted=True)
    second = seat("s", "3201", "K", ticket=200)
    changes = plan_kk_cap([first, second], cap=1, existing={}, waitlist=waitlists({}))
    assert changes == [KkCapChange(b"p", "3201", "disqualified", 1)]


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError):
        plan_kk_cap([], cap=0, existing={}, waitlist=waitlists({}))


STRATA = ["3201", "3273", "5171"]
KKS = [None, "A", "B", "C", "D"]


@st.composite
def draws(draw):  # type: ignore[no-untyped-def]
    """Random place-holders and waitlists over a few strata and family cards, distinct tickets."""
    n = draw(st.integers(0, 14))
    m = draw(st.integers(0, 14))
    tickets = draw(st.lists(st.integers(0, 255), min_size=n + m, max_size=n + m, unique=True))
    holders = [
        Seat(
            f"h{i}".encode(),
            draw(st.sampled_from(STRATA)),
            draw(st.integers(0, 2)),
            bytes([tickets[i]]),
            (k.encode() if (k := draw(st.sampled_from(KKS))) else None),
            draw(st.booleans()),
        )
        for i in range(n)
    ]
    waiting: dict[str, list[Seat]] = {}
    for j in range(m):
        stratum = draw(st.sampled_from(STRATA))
        k = draw(st.sampled_from(KKS))
        waiting.setdefault(stratum, []).append(
            Seat(f"w{j}".encode(), stratum, 3, bytes([tickets[n + j]]), k.encode() if k else None)
        )
    existing = {k.encode(): draw(st.integers(0, 3)) for k in KKS[1:] if draw(st.booleans())}
    cap = draw(st.integers(1, 3))
    return holders, waiting, existing, cap


@settings(max_examples=300, deadline=None)
@given(draws())
def test_properties(case) -> None:  # type: ignore[no-untyped-def]
    holders, waiting, existing, cap = case
    changes = plan_kk_cap(holders, cap=cap, existing=existing, waitlist=waitlists(waiting))
    dropped = {c.entry_hash for c in changes if c.action in ("disqualified", "passed_over")}
    promoted = [c for c in changes if c.action == "promoted"]
    final = [h for h in holders if h.entry_hash not in dropped]
    by_hash = {s.entry_hash: s for seats in waiting.values() for s in seats}
    final += [by_hash[c.entry_hash] for c in promoted]

    # no family card beyond its cap, counting earlier recipients (a card already full keeps nobody new)
    per_kk = Counter(s.kk for s in final if s.kk is not None)
    for kk, count in per_kk.items():
        assert count + existing.get(kk, 0) <= cap
    # a stratum never gains places; it keeps all of them while its waitlist has someone with room
    before = Counter(h.stratum for h in holders)
    after = Counter(s.stratum for s in final)
    for stratum in STRATA:
        assert after[stratum] <= before[stratum]
    # every promotion replaces one disqualification, in the same stratum
    disqualified = {c.entry_hash: c.stratum for c in changes if c.action == "disqualified"}
    assert len(promoted) <= len(disqualified)
    for c in promoted:
        assert c.replaces in disqualified and disqualified[c.replaces] == c.stratum
    # the waitlist is used in rank order: what was touched is a prefix of each stratum's waitlist
    moved = dropped | {p.entry_hash for p in promoted}
    for seats in waiting.values():
        touched = [s.entry_hash for s in seats if s.entry_hash in moved]
        assert touched == [s.entry_hash for s in seats[: len(touched)]]
    # within a card, the draw-selected entries kept are the best ranked ones
    for kk in per_kk:
        kept = [h for h in holders if h.kk == kk and h.entry_hash not in dropped]
        lost = [h for h in holders if h.kk == kk and h.entry_hash in dropped]
        key = lambda s: (s.promoted, s.tier, s.ticket, s.entry_hash)  # noqa: E731
        if kept and lost:
            assert max(map(key, kept)) < min(map(key, lost))
    # applying the cap again to the outcome changes nothing
    left = {s: [w for w in seats if w.entry_hash not in dropped and w not in final] for s, seats in waiting.items()}
    assert plan_kk_cap(final, cap=cap, existing=existing, waitlist=waitlists(left)) == []
