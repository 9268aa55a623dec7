"""The draw's results stored while its files are written: the COPY's end and the partition's attach run on a thread
while ``results.csv`` is written and hashed; either side's failure leaves nothing behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.lottery import files
from prakerja.selection import service
from prakerja.selection.repository import results_partition
from tests.selection.factories import PMO, add_entries, create_wave


def _stored(session: Session, wave_id: object) -> int:
    return int(
        session.execute(text("SELECT count(*) FROM selection_results WHERE wave_id = :w"), {"w": wave_id}).scalar_one()
    )


def test_the_recorded_digest_is_the_written_file_and_every_result_is_stored(session: Session, tmp_path: Path) -> None:
    wave = create_wave(session, quotas={"3201": 2, "3273": 1})
    add_entries(session, wave, [("3201", 0)] * 4 + [("3201", 1)] * 3 + [("3273", 1)] * 2)
    service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=tmp_path)
    draw = service.seed(session, wave.id, reference="r", value="ab" * 16, actor=PMO)
    session.commit()
    written = (Path(draw.folder) / "results.csv").read_bytes()
    assert draw.results_sha256 == hashlib.sha256(written).hexdigest()
    assert _stored(session, wave.id) == 9 == written.count(b"\n") - 1


def test_a_failure_writing_results_csv_after_the_attach_started_leaves_no_partition(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wave = create_wave(session, quotas={"3201": 1})
    add_entries(session, wave, [("3201", 0)] * 4)
    service.commit(session, wave.id, randomness_source="s", randomness_reference="r", actor=PMO, root=tmp_path)
    session.commit()
    real = files._write_atomic

    def failing(path: Path, data: object) -> None:
        if path.name == "results.csv":
            raise OSError("disk full")
        real(path, data)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "_write_atomic", failing)
    with pytest.raises(OSError, match="disk full"):
        service.seed(session, wave.id, reference="r", value="cd" * 16, actor=PMO)
    session.rollback()
    assert session.scalar(text("SELECT to_regclass(:p) IS NULL"), {"p": results_partition(wave.id)}) is True
    assert _stored(session, wave.id) == 0
    monkeypatch.setattr(files, "_write_atomic", real)
    draw = service.seed(session, wave.id, reference="r", value="cd" * 16, actor=PMO)  # the same draw, now whole
    session.commit()
    assert _stored(session, wave.id) == 4 and draw.selected_count == 1
