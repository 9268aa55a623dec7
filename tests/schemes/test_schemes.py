from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from prakerja.cli import app
from prakerja.schemes.rules import SchemeError, available, load, parse, schemes_dir

# PROGRAM.md "Schemes": (balance, incentive amount, count, survey amount, count, first-purchase days)
EXPECTED = {
    "2020-semi-bansos": (1_000_000, 600_000, 4, 50_000, 3, 30),
    "2023-normal": (3_500_000, 600_000, 1, 50_000, 2, 15),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scheme_matches_program_table(name: str) -> None:
    s = load(name)
    assert (
        s.training.balance,
        s.incentive.amount,
        s.incentive.count,
        s.survey_incentive.amount,
        s.survey_incentive.count,
        s.training.first_purchase_days,
    ) == EXPECTED[name]
    assert (s.training.expiry_month, s.training.expiry_day) == (12, 15)
    assert s.eligibility.age_min == 18 and s.eligibility.kk_cap == 2
    assert s.reference and s.training.reference and s.eligibility.reference


def test_rules_that_changed_between_schemes() -> None:
    old, new = load("2020-semi-bansos"), load("2023-normal")
    assert old.eligibility.exclude_other_aid and not new.eligibility.exclude_other_aid
    assert old.training.modes == ["online"] and "offline" in new.training.modes
    assert new.training.min_course_hours == 15 and new.training.webinar_max_participants == 150
    assert old.age_max_for_wave(17) is None and old.age_max_for_wave(18) == 64
    assert new.age_max_for_wave(1) == 64
    # 2021 (from wave 12) brought the KK cap and the other-aid exclusion; 2023 dropped the exclusion
    assert old.kk_cap_for_wave(11) is None and old.kk_cap_for_wave(12) == 2
    assert not old.exclude_other_aid_for_wave(11) and old.exclude_other_aid_for_wave(12)
    assert new.kk_cap_for_wave(1) == 2 and not new.exclude_other_aid_for_wave(30)


def test_available() -> None:
    assert set(EXPECTED) <= set(available())


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


def _base() -> str:
    return (schemes_dir() / "2023-normal.toml").read_text()


class TestMalformed:
    def test_wrong_type_names_file_field_problem(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "2023-normal", _base().replace("balance = 3_500_000", 'balance = "banyak"'))
        with pytest.raises(SchemeError) as info:
            parse(path)
        message = str(info.value)
        assert str(path) in message and "training.balance" in message and "integer" in message

    def test_float_money_refused(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "2023-normal", _base().replace("amount = 600_000", "amount = 600000.5"))
        with pytest.raises(SchemeError, match=r"incentive\.amount"):
            parse(path)

    def test_unknown_field(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "2023-normal", _base().replace("[incentive]", "[incentive]\nbonus = 1"))
        with pytest.raises(SchemeError, match=r"incentive\.bonus"):
            parse(path)

    def test_missing_section(self, tmp_path: Path) -> None:
        text = _base().split("[survey_incentive]")[0] + "[eligibility]" + _base().split("[eligibility]")[1]
        with pytest.raises(SchemeError, match="survey_incentive"):
            parse(_write(tmp_path, "2023-normal", text))

    def test_not_toml(self, tmp_path: Path) -> None:
        with pytest.raises(SchemeError, match="not valid TOML"):
            parse(_write(tmp_path, "2023-normal", "name = = ="))

    def test_name_must_match_file(self, tmp_path: Path) -> None:
        with pytest.raises(SchemeError, match="file name"):
            parse(_write(tmp_path, "other", _base()))

    def test_ages_inverted(self, tmp_path: Path) -> None:
        with pytest.raises(SchemeError, match="age_max"):
            parse(_write(tmp_path, "2023-normal", _base().replace("age_max = 64", "age_max = 17")))


class TestCli:
    def test_show(self) -> None:
        result = CliRunner().invoke(app, ["scheme", "show", "2023-normal"])
        assert result.exit_code == 0, result.output
        assert "Rp3.500.000" in result.output and "Permenko 17/2022" in result.output

    def test_unknown_scheme_one_line(self) -> None:
        result = CliRunner().invoke(app, ["scheme", "show", "2099-nothing"])
        assert result.exit_code == 2
        assert "not found" in result.output and "Traceback" not in result.output
