"""Property tests over random strata, quotas and priority tiers, through the persisted path (database, files)."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.selection import service
from prakerja.selection.models import Outcome, Result
from tests.selection.factories import PMO, add_entries, create_wave

STRATA = ["1101", "3201", "3273", "5171", "9471"]

population = st.dictionaries(
    st.sampled_from(STRATA),
    st.tuples(
        st.integers(min_value=0, max_value=6),  # quota
        st.lists(st.integers(min_value=0, max_value=2), min_size=0, max_size=7),  # tiers of the entries
    ),
    min_size=1,
    max_size=4,
)


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(population=population, seed=st.binary(min_size=1, max_size=48))
def test_quotas_priority_and_probabilities(
    session: Session, population: dict[str, tuple[int, list[int]]], seed: bytes
) -> None:
    quotas = {code: quota for code, (quota, _) in population.items()}
    wave = create_wave(session, quotas=quotas)
    add_entries(session, wave, [(code, tier) for code, (_, tiers) in population.items() for tier in tiers])
    with tempfile.TemporaryDirectory() as folder:
        service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=Path(folder))
        draw = service.seed(session, wave.id, reference="r", value=seed.hex(), actor=PMO)
        assert lottery.verify_folder(Path(draw.folder), None, require_draw=True).ok
        results = session.scalars(select(Result).where(Result.wave_id == wave.id)).all()
        by_stratum: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            by_stratum[r.stratum].append(r)
        for code, (quota, tiers) in population.items():
            rows = sorted(by_stratum.get(code, []), key=lambda r: r.rank)
            assert [r.rank for r in rows] == list(range(1, len(tiers) + 1))
            chosen = [r for r in rows if r.outcome is Outcome.selected]
            waiting = [r for r in rows if r.outcome is Outcome.waitlist]
            # quotas are filled and never exceeded
            assert len(chosen) == min(quota, len(tiers))
            # priority honoured: nobody waits while someone of a lower priority (higher tier) is selected
            if chosen and waiting:
                assert max(r.tier for r in chosen) <= min(r.tier for r in waiting)
            # each probability is the exact chance for the entry's tier; they add up to the places given
            total = sum(Fraction(r.probability_num, r.probability_den) for r in rows)
            assert total == min(quota, len(tiers))
        assert service.record_fairness(session, wave.id)
        assert draw.fairness is not None
        assert next(c for c in draw.fairness["checks"] if c["check"] == "quota_filled")["passed"]
