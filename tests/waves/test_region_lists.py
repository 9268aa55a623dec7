"""Named region lists with provenance (e.g. the extreme-poverty regencies of a decree's annex): import, validation
against the official region list, and use as a priority tier frozen into a wave."""

from __future__ import annotations

import datetime
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.cli import app
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.waves import rules, service
from prakerja.waves.models import Entry, RegionList, StratumLevel, Wave, WaveState
from tests.registration.factories import create_applicant

PMO = Actor(id=None, role="pmo_admin")
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = "Keputusan Menko PMK No. 25 Tahun 2022, Lampiran (contoh uji)"
AS_OF = datetime.date(2022, 9, 27)


@pytest.fixture(autouse=True)
def _clock() -> object:
    with clock.frozen(NOW):
        yield clock


def _import(session: Session, content: str, *, name: str = "kemiskinan-ekstrem-uji") -> RegionList:
    return service.import_region_list(session, name=name, content=content, source=SOURCE, as_of=AS_OF, actor=PMO)


def _counts(session: Session) -> tuple[int, int]:
    return (
        int(session.scalar(select(func.count()).select_from(RegionList)) or 0),
        int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
    )


def _wave(session: Session, tiers: list[dict[str, object]]) -> Wave:
    return service.create_wave(
        session,
        title="Gelombang uji",
        scheme="2023-normal",
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=6),
        total_quota=10,
        stratum_level=StratumLevel.regency,
        priority_tiers=tiers,
        actor=PMO,
    )


class TestParsing:
    @pytest.mark.parametrize(
        ("content", "codes"),
        [
            ("3201\n3273\n", ["3201", "3273"]),
            ("3201, 3273; 5171 9301", ["3201", "3273", "5171", "9301"]),
            ("kode,nama\n32.01,Kabupaten Bogor\n93.01,Kabupaten Merauke\n", ["3201", "9301"]),
            ("\ufeffcode\n# Lampiran\n3201\n\n", ["3201"]),
        ],
    )
    def test_pasted_or_csv(self, content: str, codes: list[str]) -> None:
        assert [c for c, _ in rules.parse_region_codes(content)] == codes

    def test_every_bad_code_named_with_its_line(self) -> None:
        parsed = rules.parse_region_codes("3201\n9999\n32x1,Nama\n3201\n")
        good, problems = rules.check_regency_codes(parsed, field="file", known=lambda c: c != "9999")
        assert good == ["3201"]
        assert [(p.code, p.value, p.line) for p in problems] == [
            ("region_unknown", "9999", 2),
            ("region_malformed", "32x1", 3),
            ("region_duplicate", "3201", 4),
        ]


class TestImport:
    def test_stored_with_provenance_and_audited(self, session: Session) -> None:
        imported = _import(session, "kode,nama\n32.01,Kabupaten Bogor\n9301,Kabupaten Merauke\n")
        assert imported.codes == ["3201", "9301"] and imported.as_of == AS_OF and imported.source == SOURCE
        assert imported.codes_sha256 == rules.codes_sha256(["3201", "9301"])
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "waves.region_list_imported")).one()
        assert entry.data["count"] == 2 and entry.data["name"] == "kemiskinan-ekstrem-uji"
        assert [r.name for r in service.list_region_lists(session)] == ["kemiskinan-ekstrem-uji"]

    @pytest.mark.parametrize(
        ("kwargs", "field", "code"),
        [
            ({"content": "3201\n9999\n"}, "file", "region_unknown"),
            ({"content": "3201\n9101\n"}, "file", "region_unknown"),  # retired 2019 code: import the 2025 one
            ({"content": "# nothing\n"}, "file", "region_list_empty"),
            ({"name": "Bad Name!"}, "name", "region_list_name"),
            ({"source": "  "}, "source", "region_list_source"),
            ({"as_of": datetime.date(2027, 1, 1)}, "as_of", "region_list_as_of"),
            ({"as_of": None}, "as_of", "region_list_as_of"),
        ],
    )
    def test_bad_input_changes_nothing(
        self, session: Session, kwargs: dict[str, object], field: str, code: str
    ) -> None:
        before = _counts(session)
        args: dict[str, object] = {"name": "uji", "content": "3201\n", "source": SOURCE, "as_of": AS_OF} | kwargs
        with pytest.raises(DomainError) as caught:
            service.import_region_list(session, actor=PMO, **args)  # type: ignore[arg-type]
        assert (caught.value.code, caught.value.status_code) == ("invalid_region_list", 422)
        assert {"field": field, "code": code} in [
            {"field": p["field"], "code": p["code"]} for p in caught.value.details["fields"]
        ]
        assert _counts(session) == before

    def test_a_name_is_used_once(self, session: Session) -> None:
        _import(session, "3201\n")
        with pytest.raises(DomainError) as caught:
            _import(session, "3273\n")
        assert (caught.value.code, caught.value.status_code) == ("region_list_exists", 409)


class TestAsTier:
    def test_codes_and_provenance_frozen_into_the_wave(self, session: Session) -> None:
        _import(session, "9301\n3273\n")
        wave = _wave(
            session,
            [
                {"name": "PHK", "whitelist_types": ["laid_off"]},
                {"name": "Miskin ekstrem", "region_list": "kemiskinan-ekstrem-uji"},
            ],
        )
        frozen = wave.priority_tiers[1]["region_list"]
        assert frozen == {
            "name": "kemiskinan-ekstrem-uji",
            "source": SOURCE,
            "as_of": "2022-09-27",
            "codes_sha256": rules.codes_sha256(["3273", "9301"]),
            "codes": ["3273", "9301"],
        }
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "waves.created")).one()
        assert audit is not None

        poor, other = create_applicant(session, regency="9301"), create_applicant(session, regency="3201")
        service.open_wave(session, wave.id, actor=PMO)
        for person in (poor, other):
            service.join(session, account_id=person.account_id, wave_id=wave.id, consent=True)
        service.close_wave(session, wave.id, actor=PMO)
        tiers = dict(session.execute(select(Entry.applicant_id, Entry.tier)).all())
        assert tiers == {poor.applicant_id: 1, other.applicant_id: 2}

    def test_set_on_an_open_wave_then_refused_after_closing(self, session: Session) -> None:
        _import(session, "3201\n")
        wave = service.open_wave(session, _wave(session, []).id, actor=PMO)
        updated = service.set_priority_tiers(
            session, wave.id, [{"name": "Miskin ekstrem", "region_list": "kemiskinan-ekstrem-uji"}], actor=PMO
        )
        assert updated.priority_tiers[0]["region_list"]["codes"] == ["3201"]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "waves.tiers_set")).one()
        assert entry.data["tiers"][0]["region_list"]["name"] == "kemiskinan-ekstrem-uji"
        service.close_wave(session, wave.id, actor=PMO)
        with pytest.raises(DomainError) as caught:
            service.set_priority_tiers(session, wave.id, [{"name": "PHK", "whitelist_types": ["laid_off"]}], actor=PMO)
        assert (caught.value.code, caught.value.status_code) == ("tiers_frozen", 409)
        assert session.get(Wave, wave.id).state is WaveState.closed  # type: ignore[union-attr]

    @pytest.mark.parametrize(
        ("tiers", "field", "code"),
        [
            ([{"name": "X", "region_list": "tidak-ada"}], "tiers[0].region_list", "region_list_unknown"),
            ([{"name": "X", "regencies": ["9999"]}], "tiers[0].regencies", "region_unknown"),
            ([{"name": "X", "whitelist_types": ["asn"]}], "tiers[0].whitelist_types", "whitelist_unknown"),
            ([{"name": "", "whitelist_types": ["laid_off"]}], "tiers[0].name", "tier_name_missing"),
            ([{"name": "X"}], "tiers[0]", "tier_empty"),
            ("not a list", "tiers", "tiers_malformed"),
        ],
    )
    def test_bad_tiers_change_nothing(self, session: Session, tiers: object, field: str, code: str) -> None:
        wave = _wave(session, [{"name": "PHK", "whitelist_types": ["laid_off"]}])
        before = (list(wave.priority_tiers), _counts(session))
        with pytest.raises(DomainError) as caught:
            service.set_priority_tiers(session, wave.id, tiers, actor=PMO)
        assert (caught.value.code, caught.value.status_code) == ("invalid_tiers", 422)
        assert [(p["field"], p["code"]) for p in caught.value.details["fields"]] == [(field, code)]
        assert (list(wave.priority_tiers), _counts(session)) == before


def test_cli_import_and_list(clean_db: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    good = tmp_path / "lampiran.csv"
    good.write_text("kode,nama\n32.01,Kabupaten Bogor\n93.01,Kabupaten Merauke\n")
    args = ["wave", "region-list", "import", "kemiskinan-ekstrem-2022", str(good), "--source", SOURCE]
    result = runner.invoke(app, [*args, "--as-of", "2022-09-27"])
    assert result.exit_code == 0, result.output
    assert "kemiskinan-ekstrem-2022: 2 regencies, as of 2022-09-27" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("3201\n9999\n")
    result = runner.invoke(
        app, ["wave", "region-list", "import", "lain", str(bad), "--source", SOURCE, "--as-of", "2022-09-27"]
    )
    assert result.exit_code == 2 and "invalid_region_list" in result.output and "9999" in result.output
    result = runner.invoke(app, ["wave", "region-list", "list"])
    assert result.exit_code == 0 and "kemiskinan-ekstrem-2022" in result.output and "lain" not in result.output
