"""The publication folder, the commitment, the draw and its fairness report. Never commits. The lottery
itself (files, Merkle tree, tickets, verification) is :mod:`prakerja.lottery`."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit import service as audit
from prakerja.config import get_settings
from prakerja.jobs import enqueue
from prakerja.kit import signing
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import Conflict
from prakerja.selection import repository, rules
from prakerja.selection.errors import (
    AlreadyDrawn,
    DrawNotFound,
    InvalidRandomness,
    InvalidSeed,
    LotteryRefused,
    NoQuotas,
    PublicationMissing,
    SeedReferenceMismatch,
    WaveNotCommitted,
)
from prakerja.selection.models import Draw
from prakerja.selection.service.phases import phase
from prakerja.waves import service as waves
from prakerja.waves.models import Wave, WaveState

COMMITMENT_FILES = ("eligible.csv", "commitment.json", "commitment.sig", "public-key.pem")
DRAW_FILES = ("seed.json",)
RESULT_FILES = ("results.csv",)


# ---------------------------------------------------------------------------------------------- publication folder


def publications_root() -> Path:
    return get_settings().home / "publications"


def get_draw(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Draw:
    found = repository.draw(session, wave_id, lock=lock)
    if found is None:
        raise DrawNotFound(details={"wave_id": str(wave_id)})
    return found


def published_files(wave: Wave, draw: Draw | None) -> list[str]:
    """Which files the public may download at the wave's stage (results only once announced)."""
    if draw is None or wave.state in (WaveState.draft, WaveState.open, WaveState.closed):
        return []
    names = list(COMMITMENT_FILES)
    if wave.state in (WaveState.drawn, WaveState.announced):
        names += DRAW_FILES
    if wave.state is WaveState.announced:
        names += RESULT_FILES
    return names


def published_file(session: Session, wave_id: uuid.UUID, name: str) -> Path:
    wave = waves.get_wave(session, wave_id)
    draw = repository.draw(session, wave_id)
    if name not in published_files(wave, draw) or draw is None:
        raise PublicationMissing(details={"file": name})
    path = Path(draw.folder) / name
    if not path.is_file():
        raise PublicationMissing(details={"file": name})
    return path


@dataclass(frozen=True)
class PublicWave:
    wave: Wave
    draw: Draw | None
    files: list[str]


def public_waves(session: Session) -> list[PublicWave]:
    """Every wave past drafting, with the files the public may download."""
    listed = [w for w in waves.list_waves(session) if w.state is not WaveState.draft]
    found = repository.draws(session, [w.id for w in listed])
    return [PublicWave(wave=w, draw=found.get(w.id), files=published_files(w, found.get(w.id))) for w in listed]


# ---------------------------------------------------------------------------------------------- commitment


def commit(
    session: Session,
    wave_id: uuid.UUID,
    *,
    randomness_source: str,
    randomness_reference: str,
    actor: audit.Actor,
    root: Path | None = None,
) -> Draw:
    """Write and sign the commitment for a closed wave (eligible set and quotas frozen from here on)."""
    if not randomness_source.strip() or not randomness_reference.strip():
        raise InvalidRandomness(details={"fields": ["randomness_source", "randomness_reference"]})
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.closed:
        raise Conflict(code="wave_not_closed", details={"state": wave.state.value})
    waves.check_scheme(wave)
    quotas = waves.quotas(session, wave.id)
    if not quotas:
        raise NoQuotas()
    with phase("commit: read the eligible set (PostgreSQL)"):
        eligible = repository.eligible_csv_rows(session, wave.id)
    folder = (root or publications_root()) / str(wave.id)
    committed_at = utcnow().replace(microsecond=0)
    try:
        with phase("commit: lottery files (check rows, Merkle tree, sign, write)"):
            written = lottery.write_commitment_files(
                folder,
                eligible_rows=eligible,
                wave_id=str(wave.id),
                scheme=wave.scheme_name,
                quotas=quotas,
                randomness_source=randomness_source.strip(),
                randomness_reference=randomness_reference.strip(),
                committed_at=committed_at,
                signing_key=signing.private_key(),
            )
    except lottery.LotteryError as error:
        raise LotteryRefused(error) from None
    draw = Draw(
        wave_id=wave.id,
        folder=str(folder),
        eligible_count=written.eligible_count,
        merkle_root=written.merkle_root,
        randomness_source=randomness_source.strip(),
        randomness_reference=randomness_reference.strip(),
        commitment_sha256=hashlib.sha256(written.commitment).hexdigest(),
        eligible_sha256=written.eligible_sha256,
        committed_at=committed_at,
    )
    repository.add(session, draw)
    waves.advance(
        session,
        wave,
        WaveState.committed,
        actor=actor,
        data={
            "eligible_count": written.eligible_count,
            "merkle_root": written.merkle_root,
            "randomness_reference": draw.randomness_reference,
            "commitment_sha256": draw.commitment_sha256,
        },
    )
    return draw


# ---------------------------------------------------------------------------------------------- draw


_HEX = re.compile(r"^(?:[0-9a-f]{2})+$")


def seed(session: Session, wave_id: uuid.UUID, *, reference: str, value: str, actor: audit.Actor) -> Draw:
    """The named public random value is revealed: run the draw, persist every entry's result and probability,
    write ``seed.json`` and ``results.csv`` (published at announcement); queue the fairness report."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state in (WaveState.drawn, WaveState.announced):
        raise AlreadyDrawn(details={"state": wave.state.value})
    if wave.state is not WaveState.committed:
        raise WaveNotCommitted(details={"state": wave.state.value})
    draw = get_draw(session, wave.id, lock=True)
    if reference.strip() != draw.randomness_reference:
        raise SeedReferenceMismatch(details={"expected": draw.randomness_reference, "given": reference.strip()})
    value = value.strip().lower()
    if not _HEX.match(value) or len(value) > 1024:
        raise InvalidSeed(details={"field": "value"})
    folder = Path(draw.folder)
    # Each tier of the draw is streamed into the database as soon as it is ranked: PostgreSQL stores it while
    # the next one is drawn. A refused draw raises before the first tier, so nothing is written.
    with (
        phase("draw: persist results (start and end of COPY, attach partition)"),
        repository.results_writer(session, wave.id) as persist,
    ):

        def store(tier: lottery.TierDraw) -> None:
            with phase("draw: persist results (COPY rows, streamed)"):
                persist(_tier_rows(tier))

        try:
            with phase("draw: lottery (verify the folder, tickets, rank, results.csv, write files; attach meanwhile)"):
                drawn = lottery.write_draw_files(
                    folder,
                    draw.randomness_reference,
                    value,
                    eligible_sha256=draw.eligible_sha256,
                    commitment_sha256=draw.commitment_sha256,
                    on_tier=store,
                    # the COPY's end and the partition's attach (its primary key built) run while the files are
                    # written and hashed
                    on_drawn=persist.finish_meanwhile,
                )
        except lottery.LotteryError as error:
            raise LotteryRefused(error) from None
    draw.seed_value = value
    draw.drawn_at = utcnow()
    draw.results_sha256 = drawn.results_sha256
    draw.selected_count = drawn.selected_count
    # The fairness report reads the whole wave back (seconds at a million entries) and is computed again at the
    # announcement, which is what it gates: here it is a job queued in the draw's transaction, so the draw page
    # shows it moments later and the draw's locks are held no longer than the draw needs.
    draw.fairness, draw.fairness_ok = None, None
    enqueue(session, FAIRNESS_TASK, wave_id=str(wave.id))
    waves.advance(
        session,
        wave,
        WaveState.drawn,
        actor=actor,
        data={
            "reference": draw.randomness_reference,
            "seed_sha256": hashlib.sha256(bytes.fromhex(value)).hexdigest(),
            "results_sha256": draw.results_sha256,
            "selected": draw.selected_count,
        },
    )
    return draw


FAIRNESS_TASK = "selection.fairness_report"


def record_fairness(session: Session, wave_id: uuid.UUID) -> bool:
    """Store the fairness report of a drawn wave for its draw page (the job queued by :func:`seed`). Safe to run
    twice; does nothing once the wave is announced (the announcement stores the report it was decided on)."""
    wave = waves.get_wave(session, wave_id)
    if wave.state is not WaveState.drawn:
        return False
    draw = get_draw(session, wave.id, lock=True)
    with phase("fairness report (PostgreSQL)"):
        report = fairness(session, wave)
    draw.fairness = report.to_json()
    draw.fairness_ok = report.ok
    return True


def _tier_rows(tier: lottery.TierDraw) -> repository.TierRows:
    """A tier of the draw as the repository persists it: the probability as num/den (contract section 5)."""
    num, den = rules.probability_parts(tier.probability)
    return repository.TierRows(tier.stratum, tier.tier, tier.first_rank, tier.selected, num, den, tier.keys)


def fairness(session: Session, wave: Wave) -> rules.FairnessReport:
    quotas = waves.quotas(session, wave.id)
    groups = repository.time_groups(session, wave.id, rules.TIME_BUCKETS)
    eligible: dict[str, int] = {}
    selected: dict[str, int] = {}
    for (stratum, _tier), buckets in groups.items():
        eligible[stratum] = eligible.get(stratum, 0) + sum(n for n, _ in buckets)
        selected[stratum] = selected.get(stratum, 0) + sum(s for _, s in buckets)
    return rules.fairness_report(
        quotas=quotas,
        eligible_per_stratum=eligible,
        selected_per_stratum=selected,
        time_groups=groups,
        duplicate_people=repository.duplicate_people(session, wave.id),
        already_recipients=repository.already_recipients(session, wave.id),
    )
