"""The offline import's short paths (issue 15): the common row's checks give the wizard's verdicts, and a file read
as text chunks (parsed in the preparing processes) registers exactly the rows ``csv`` reads from it."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.kit import pii
from prakerja.registration.models import Applicant
from prakerja.registration.service import bulk, nik_index
from tests.registration.conftest import person

TODAY = datetime.date(2026, 12, 6)


def row(i: int) -> list[str]:
    p = person(i)
    district = f"{p['regency']}01"
    return [str(p[k]) for k in ("nik", "kk", "birth_date", "sex", "full_name", "mother_maiden_name")] + [district]


def variants(base: list[str]) -> list[list[str]]:
    """The row as given and changed field by field: some still valid in the slow path only, most refused."""
    nik, kk, birth, sex, _name, _mother, district = base
    day = int(nik[6:8])
    other_day = day - 40 if day > 40 else day + 40
    year = int(birth[:4])
    out = [
        base,
        [nik[:6] + f"{other_day:02d}" + nik[8:], *base[1:]],  # the other sex's day field
        [nik, kk, birth, "F" if sex == "M" else "M", *base[4:]],
        [nik[:8] + "13" + nik[10:], *base[1:]],  # month 13
        [nik[:10] + "00" + nik[12:], *base[1:]],  # another year
        [nik[:12] + "0000", *base[1:]],  # serial 0000
        ["99" + nik[2:], *base[1:]],  # unknown province
        [nik[:4] + "99" + nik[6:], *base[1:]],  # unknown district
        [f" {nik} ", *base[1:]],  # spaces: normalised by the slow path
        [f"{nik[:4]}.{nik[4:8]}-{nik[8:]}", *base[1:]],  # separators
        [nik[:15] + "a", *base[1:]],
        [nik, "0" * 16, *base[2:]],
        [nik, "99" + kk[2:], *base[2:]],
        [nik, kk[:15], *base[2:]],
        [nik, kk, f"{year}-{birth[5:7]}-{birth[8:]}T00:00", *base[3:]],
        [nik, kk, birth.replace("-", ""), *base[3:]],  # 19900115: fromisoformat reads it, the NIK agrees
        [nik, kk, f" {birth}", *base[3:]],
        [nik, kk, birth, "m", *base[4:]],
        [nik, kk, birth, sex, "", *base[5:]],
        [nik, kk, birth, sex, "  Budi   Santoso ", *base[5:]],
        [nik, kk, birth, sex, "Budi`s Santoso", *base[5:]],
        [nik, kk, birth, sex, "Dédé Kusnadi", *base[5:]],
        [nik, kk, birth, sex, "Budi2", *base[5:]],
        [nik, kk, birth, sex, "B" * 101, *base[5:]],
        [nik, kk, birth, sex, "B" * 100, *base[5:]],
        [nik, kk, birth, sex, "-.-", *base[5:]],
        [*base[:5], "<script>", district],
        [*base[:6], "999999"],
        [*base[:6], f" {district}"],
        [*base[:6], district[:4]],
        base[:6],
        [*base, "extra"],
    ]
    return out


def dated(base: list[str], birth: str) -> list[str]:
    """The row with another birth date, its NIK's DDMMYY made to agree."""
    nik, kk, _, sex, *rest = base
    yy, mm, dd = birth[2:4], birth[5:7], int(birth[8:10])
    return [nik[:6] + f"{dd + 40 if sex == 'F' else dd:02d}{mm}{yy}" + nik[12:], kk, birth, sex, *rest]


def test_the_short_path_gives_the_wizards_verdict_and_stored_form() -> None:
    rows = list(itertools.chain.from_iterable(variants(row(i)) for i in range(12)))
    rows += [
        dated(row(i), birth)
        for i, birth in itertools.product(
            range(4), ("2000-02-29", "1900-02-28", "2026-12-06", "2026-12-07", "1906-12-07", "1906-12-06")
        )
    ]
    accepted = 0
    for candidate in rows:
        expected = bulk._checked(candidate, TODAY)
        assert bulk._checked_fast(candidate, TODAY) == expected, candidate
        accepted += expected is not None
    assert 20 < accepted < len(rows) - 100  # both verdicts were exercised


def test_the_blind_index_is_kit_pii_s() -> None:
    digest = bulk._blind_index(pii.get_keys().blind_index_key)
    for number in ("3201011505900001", "3201010101010001"):
        assert digest(b"nik\x00" + number.encode()) == pii.blind_index(number, "nik")
        assert digest(b"kk\x00" + number.encode()) == pii.blind_index(number, "kk")


def csv_text(rows: list[list[str]], header: list[str] | None = None, newline: str = "\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header or list(bulk.COLUMNS))
    writer.writerows(rows)
    return out.getvalue()


def run_import(session: Session, path: Path, pool: object, chunk_characters: int) -> bulk.BulkResult:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        order = bulk.csv_order(next(csv.reader(handle)))
        return bulk.import_csv(session, handle, order, pool=pool, chunk_characters=chunk_characters)  # type: ignore[arg-type]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_file_is_read_as_csv_reads_it(session: Session, tmp_path: Path, processes: int) -> None:
    """Columns in another order, CRLF line ends, a blank line, a short record; after the first chunks, a quoted
    name with a comma and a quoted field across a line break: the rest is parsed here, with the same result."""
    header = ["sex", "nik", "kk", "birth_date", "full_name", "mother_maiden_name", "domicile_district"]
    shuffle = [3, 0, 1, 2, 4, 5, 6]
    rows = [[r[j] for j in shuffle] for r in (row(i) for i in range(60))]
    rows[5] = rows[5][:3]  # short: missing fields are empty, so refused
    rows[40][4] = "Siti, Aminah"  # quoted, refused by the name rules (a comma is allowed: accepted)
    rows[41][5] = "Line\nbreak"  # quoted across a line break: refused
    text = csv_text(rows[:20], header, "\r\n") + "\r\n" + csv_text(rows[20:], header)[len(",".join(header)) + 1 :]
    path = tmp_path / "offline.csv"
    path.write_text(text, encoding="utf-8", newline="")
    expected = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert len(expected) == 61  # the blank line is a record too
    with bulk.preparers(processes) as pool:
        result = run_import(session, path, pool, chunk_characters=700)
    session.commit()
    assert (result.rows_read, result.rows_invalid, result.rows_inserted, result.rows_duplicate) == (61, 3, 58, 0)
    stored = session.scalars(select(Applicant).where(Applicant.nik_index == nik_index(rows[40][1]))).one()
    assert stored.full_name == "Siti, Aminah" and stored.sex == rows[40][0]
    assert stored.created_at == stored.updated_at and stored.identity_status == "unsubmitted"


def test_a_file_imported_twice_registers_nobody_twice(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "offline.csv"
    path.write_text(csv_text([row(i) for i in range(25)]), encoding="utf-8")
    with bulk.preparers(2) as pool:
        first = run_import(session, path, pool, chunk_characters=500)
        session.commit()
        path.write_text(csv_text([row(i) for i in range(40)]), encoding="utf-8")
        again = run_import(session, path, pool, chunk_characters=500)
        session.commit()
    assert (first.rows_inserted, first.rows_duplicate) == (25, 0)
    assert (again.rows_read, again.rows_inserted, again.rows_duplicate) == (40, 15, 25)


def test_cli_refuses_a_wrong_header_before_anything_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prakerja.cli import app

    monkeypatch.setattr(bulk, "preparers", lambda *a: pytest.fail("started"))
    bad = tmp_path / "bad.csv"
    bad.write_text("nik,nama\n1,2\n")
    result = CliRunner().invoke(app, ["registration", "import-offline", str(bad)])
    assert result.exit_code == 2 and "header must be" in result.output
