"""Commitment, seed and draw through the database: files, persisted results, bad input, the waitlist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.models import AuditEntry
from prakerja.kit.errors import DomainError
from prakerja.selection import service
from prakerja.selection.models import Draw, Result, ResultStatus
from prakerja.waves import service as waves
from prakerja.waves.models import Quota, Wave, WaveState
from tests.selection.factories import PMO, add_entries, create_wave

REF = "drand/quicknet/round/12345678"
SEED = "ab" * 32


def _commit(session: Session, wave: Wave, root: Path) -> Draw:
    return service.commit(
        session, wave.id, randomness_source="drand quicknet", randomness_reference=REF, actor=PMO, root=root
    )


def _snapshot(session: Session) -> tuple[object, ...]:
    """Everything the bad-input tests must leave untouched."""
    return (
        session.scalars(select(Wave.state).order_by(Wave.number)).all(),
        session.execute(select(Quota.wave_id, Quota.stratum, Quota.quota).order_by(Quota.stratum)).all(),
        session.scalar(select(func.count()).select_from(Result)),
        session.scalar(select(func.count()).select_from(Draw)),
        session.scalar(select(func.count()).select_from(AuditEntry)),
    )


class TestCommitAndDraw:
    def test_files_results_and_probabilities(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, quotas={"3201": 2, "3202": 5})
        made = add_entries(session, wave, [("3201", 0)] * 3 + [("3201", 1)] * 2 + [("3202", 0)] * 3)
        draw = _commit(session, wave, tmp_path)
        folder = Path(draw.folder)
        assert sorted(p.name for p in folder.iterdir()) == sorted(service.COMMITMENT_FILES)
        commitment = json.loads((folder / "commitment.json").read_bytes())
        assert commitment["wave_id"] == str(wave.id) and commitment["eligible_count"] == 8
        assert commitment["randomness"]["reference"] == REF
        assert wave.state is WaveState.committed

        service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        session.commit()
        rows = session.scalars(select(Result).where(Result.wave_id == wave.id).order_by(Result.stratum, Result.rank))
        by_stratum: dict[str, list[Result]] = {}
        for row in rows:
            by_stratum.setdefault(row.stratum, []).append(row)
        first = by_stratum["3201"]
        assert [r.outcome.value for r in first] == ["selected", "selected", "waitlist", "waitlist", "waitlist"]
        assert all(r.tier == 0 for r in first[:3]) and all(r.tier == 1 for r in first[3:])
        assert {(r.probability_num, r.probability_den) for r in first[:3]} == {(2, 3)}
        assert {(r.probability_num, r.probability_den) for r in first[3:]} == {(0, 1)}
        assert [r.outcome.value for r in by_stratum["3202"]] == ["selected"] * 3
        assert {(r.probability_num, r.probability_den) for r in by_stratum["3202"]} == {(1, 1)}
        assert {r.entry_hash.hex() for rs in by_stratum.values() for r in rs} == {m.entry_hash for m in made}
        assert lottery.verify_folder(folder, None).ok
        assert wave.state is WaveState.drawn

    def test_results_match_the_published_file(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, quotas={"3201": 3, "3273": 1})
        add_entries(session, wave, [("3201", 0)] * 6 + [("3273", 0)] * 4)
        draw = _commit(session, wave, tmp_path)
        service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        rows = session.execute(
            text(
                "SELECT stratum, tier, rank, encode(entry_hash, 'hex'), encode(ticket, 'hex'), outcome, "
                "CASE WHEN probability_den = 1 THEN probability_num::text "
                "ELSE probability_num || '/' || probability_den END FROM selection_results "
                "WHERE wave_id = :w ORDER BY stratum, rank"
            ),
            {"w": wave.id},
        ).all()
        rebuilt = "\n".join([lottery.RESULTS_HEADER, *(",".join(str(c) for c in r) for r in rows), ""]).encode()
        assert rebuilt == (Path(draw.folder) / "results.csv").read_bytes()


class TestBadInput:
    def test_drawing_an_open_wave(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, state=WaveState.open)
        session.commit()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        assert (caught.value.status_code, caught.value.code) == (409, "wave_not_committed")
        session.rollback()
        assert _snapshot(session) == before

    def test_drawing_twice(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session)
        add_entries(session, wave, [("3201", 0)] * 4)
        _commit(session, wave, tmp_path)
        service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        session.commit()
        results = (Path(tmp_path) / str(wave.id) / "results.csv").read_bytes()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.seed(session, wave.id, reference=REF, value="cd" * 32, actor=PMO)
        assert (caught.value.status_code, caught.value.code) == (409, "wave_already_drawn")
        session.rollback()
        assert _snapshot(session) == before
        assert (Path(tmp_path) / str(wave.id) / "results.csv").read_bytes() == results

    def test_seed_whose_reference_does_not_match(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session)
        add_entries(session, wave, [("3201", 0)] * 3)
        draw = _commit(session, wave, tmp_path)
        session.commit()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.seed(session, wave.id, reference="drand/quicknet/round/1", value=SEED, actor=PMO)
        assert (caught.value.status_code, caught.value.code) == (409, "seed_reference_mismatch")
        session.rollback()
        assert _snapshot(session) == before
        assert not (Path(draw.folder) / "seed.json").exists()

    def test_seed_not_hex(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session)
        add_entries(session, wave, [("3201", 0)])
        _commit(session, wave, tmp_path)
        session.commit()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            service.seed(session, wave.id, reference=REF, value="not hex", actor=PMO)
        assert (caught.value.status_code, caught.value.code) == (422, "invalid_seed")
        session.rollback()
        assert _snapshot(session) == before

    def test_changing_quotas_after_commitment(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, quotas={"3201": 2})
        add_entries(session, wave, [("3201", 0)] * 3)
        _commit(session, wave, tmp_path)
        session.commit()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            waves.set_quotas(session, wave.id, {"3201": 3}, method="csv", actor=PMO, known_region=lambda c: True)
        assert (caught.value.status_code, caught.value.code) == (409, "quotas_frozen")
        session.rollback()
        assert _snapshot(session) == before

    def test_committing_twice(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session)
        add_entries(session, wave, [("3201", 0)])
        _commit(session, wave, tmp_path)
        session.commit()
        before = _snapshot(session)
        with pytest.raises(DomainError) as caught:
            _commit(session, wave, tmp_path)
        assert (caught.value.status_code, caught.value.code) == (409, "wave_not_closed")
        session.rollback()
        assert _snapshot(session) == before


class TestWaitlist:
    def test_disqualified_replaced_in_rank_order(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, quotas={"3201": 2})
        add_entries(session, wave, [("3201", 0)] * 5)
        _commit(session, wave, tmp_path)
        service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        ranked = session.scalars(select(Result).where(Result.wave_id == wave.id).order_by(Result.rank)).all()
        promoted = service.disqualify(session, wave.id, ranked[0].entry_hash.hex(), reason="pns", actor=PMO)
        assert promoted is not None and promoted.rank == 3
        again = service.disqualify(session, wave.id, ranked[2].entry_hash.hex(), reason="pns", actor=PMO)
        assert again is not None and again.rank == 4
        statuses = [r.status for r in session.scalars(select(Result).order_by(Result.rank))]
        assert statuses == [
            ResultStatus.disqualified,
            ResultStatus.selected,
            ResultStatus.disqualified,
            ResultStatus.promoted,
            ResultStatus.waitlist,
        ]
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "selection.disqualified")).all()
        assert [a.reason for a in audit] == ["pns", "pns"]

    def test_only_selected_can_be_disqualified(self, session: Session, tmp_path: Path) -> None:
        wave = create_wave(session, quotas={"3201": 1})
        add_entries(session, wave, [("3201", 0)] * 2)
        _commit(session, wave, tmp_path)
        service.seed(session, wave.id, reference=REF, value=SEED, actor=PMO)
        waitlisted = session.scalars(select(Result).where(Result.rank == 2)).one()
        with pytest.raises(DomainError) as caught:
            service.disqualify(session, wave.id, waitlisted.entry_hash.hex(), reason="x", actor=PMO)
        assert caught.value.code == "not_disqualifiable"
