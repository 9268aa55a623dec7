"""The PMO's pages for priority tiers and region lists: bad input is refused field by field and changes nothing."""

from __future__ import annotations

import datetime
from datetime import UTC, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.waves import service
from prakerja.waves.models import RegionList, StratumLevel, Wave, WaveState
from tests.web.test_shell import create_account, csrf, login

PMO = Actor(id=None, role="pmo_admin")
SOURCE = "Keputusan Menko PMK No. 25 Tahun 2022, Lampiran (uji)"


def _wave(session: Session, *, state: WaveState = WaveState.draft) -> Wave:
    now = datetime.datetime.now(UTC)
    wave = service.create_wave(
        session,
        title="Gelombang uji",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=6),
        total_quota=10,
        stratum_level=StratumLevel.regency,
        priority_tiers=[{"name": "PHK", "whitelist_types": ["laid_off"]}],
        actor=PMO,
    )
    wave.state = state
    session.commit()
    return wave


@pytest.fixture
def admin(client: TestClient, session: Session) -> TestClient:
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    login(client, "admin@example.org")
    return client


def _audits(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _rows(**fields: str) -> dict[str, str]:
    """A tier form with the existing row 0 kept and row 1 filled from ``fields`` (``name``, ``regencies``...)."""
    data = {"rows": "3", "position_0": "1", "name_0": "PHK", "whitelist_0": "laid_off", "position_1": "2"}
    data |= {f"{key}_1": value for key, value in fields.items()}
    return data


class TestTierPage:
    def test_shows_tiers_and_the_form(self, admin: TestClient, session: Session) -> None:
        wave = _wave(session)
        html = admin.get(f"/pmo/gelombang/{wave.id}/prioritas").text
        assert 'data-testid="tier-table"' in html and "PHK" in html and 'data-testid="tier-form"' in html
        assert "<td>Korban PHK (Kemnaker)</td>" in html and "<td>laid_off</td>" not in html  # in words
        assert f'href="/pmo/gelombang/{wave.id}/prioritas"' in admin.get(f"/pmo/gelombang/{wave.id}").text

    def test_unknown_region_code_is_named_next_to_its_field(self, admin: TestClient, session: Session) -> None:
        wave = _wave(session)
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        before = _audits(session)
        data = _rows(name="Miskin ekstrem", regencies="3201 9999") | {"csrf_token": csrf(admin, page)}
        response = admin.post(page, data=data, follow_redirects=False)
        assert response.status_code == 422
        assert 'data-code="invalid_tiers"' in response.text
        assert 'data-testid="regencies_1-error"' in response.text and 'data-code="region_unknown"' in response.text
        assert "Tidak ada dalam daftar wilayah resmi (Kemendagri)" in response.text and "9999" in response.text
        assert 'value="Miskin ekstrem"' in response.text  # what was typed is kept
        session.expire_all()
        assert session.get(Wave, wave.id).priority_tiers == [  # type: ignore[union-attr]
            {"name": "PHK", "whitelist_types": ["laid_off"], "regencies": []}
        ]
        assert _audits(session) == before

    def test_uploaded_file_with_a_bad_code(self, admin: TestClient, session: Session) -> None:
        wave = _wave(session)
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        data = _rows(name="Miskin ekstrem") | {"csrf_token": csrf(admin, page)}
        files = {"file_1": ("kode.csv", b"kode,nama\n32.01,Kabupaten Bogor\n99.99,Tidak Ada\n", "text/csv")}
        response = admin.post(page, data=data, files=files, follow_redirects=False)
        assert response.status_code == 422 and "9999" in response.text

    @pytest.mark.parametrize(
        ("fields", "testid", "code"),
        [
            ({"name": "X", "region_list": "tidak-ada"}, "region_list_1-error", "region_list_unknown"),
            ({"name": "X", "whitelist": "asn"}, "whitelist_1-error", "whitelist_unknown"),
            ({"regencies": "3201"}, "name_1-error", "tier_name_missing"),
            ({"name": "PHK", "regencies": "3201"}, "name_1-error", "tier_name_duplicate"),
            ({"name": "Kosong"}, "tier-1-row-error", "tier_empty"),
        ],
    )
    def test_bad_rows(
        self, admin: TestClient, session: Session, fields: dict[str, str], testid: str, code: str
    ) -> None:
        wave = _wave(session)
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        before = _audits(session)
        response = admin.post(page, data=_rows(**fields) | {"csrf_token": csrf(admin, page)}, follow_redirects=False)
        assert response.status_code == 422
        assert f'data-testid="{testid}"' in response.text and f'data-code="{code}"' in response.text
        assert _audits(session) == before

    def test_saved_reordered_with_a_region_list(self, admin: TestClient, session: Session) -> None:
        service.import_region_list(
            session, name="miskin-uji", content="9301\n", source=SOURCE, as_of=datetime.date(2022, 9, 27), actor=PMO
        )
        session.commit()
        wave = _wave(session, state=WaveState.open)
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        data = _rows(name="Miskin ekstrem", region_list="miskin-uji", regencies="32.73") | {"position_1": "0"}
        response = admin.post(page, data=data | {"csrf_token": csrf(admin, page)}, follow_redirects=False)
        assert response.status_code == 303
        session.expire_all()
        tiers = session.get(Wave, wave.id).priority_tiers  # type: ignore[union-attr]
        assert [t["name"] for t in tiers] == ["Miskin ekstrem", "PHK"]
        assert tiers[0]["regencies"] == ["3273"] and tiers[0]["region_list"]["codes"] == ["9301"]
        assert tiers[0]["region_list"]["source"] == SOURCE
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "waves.tiers_set")).one()
        assert entry.actor_role == "pmo_admin"
        removed = {"rows": "2", "position_0": "1", "name_0": "Miskin ekstrem", "region_list_0": "miskin-uji"}
        removed |= {"position_1": "2", "name_1": "PHK", "whitelist_1": "laid_off", "remove_1": "yes"}
        response = admin.post(page, data=removed | {"csrf_token": csrf(admin, page)}, follow_redirects=False)
        assert response.status_code == 303
        session.expire_all()
        assert [t["name"] for t in session.get(Wave, wave.id).priority_tiers] == ["Miskin ekstrem"]  # type: ignore[union-attr]

    @pytest.mark.parametrize("state", [WaveState.closed, WaveState.committed])
    def test_refused_once_closed_or_committed(self, admin: TestClient, session: Session, state: WaveState) -> None:
        wave = _wave(session, state=state)
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        html = admin.get(page).text
        assert 'data-testid="tiers-frozen"' in html and 'data-testid="tier-form"' not in html
        before = _audits(session)
        data = _rows(name="Miskin ekstrem", regencies="3201") | {"csrf_token": csrf(admin, f"/pmo/gelombang/{wave.id}")}
        response = admin.post(page, data=data, follow_redirects=False)
        assert response.status_code == 409 and 'data-code="tiers_frozen"' in response.text
        assert _audits(session) == before

    def test_staff_without_admin_role_cannot_edit(self, client: TestClient, session: Session) -> None:
        wave = _wave(session)
        create_account(session, email="staff@example.org", role=Role.pmo_officer, name="Staf")
        login(client, "staff@example.org")
        page = f"/pmo/gelombang/{wave.id}/prioritas"
        assert client.get(page).status_code == 200
        data = _rows(name="X", regencies="3201") | {"csrf_token": csrf(client, page)}
        assert client.post(page, data=data, follow_redirects=False).status_code == 403

    def test_without_csrf_token_refused(self, admin: TestClient, session: Session) -> None:
        wave = _wave(session)
        response = admin.post(f"/pmo/gelombang/{wave.id}/prioritas", data=_rows(name="X", regencies="3201"))
        assert response.status_code == 403


class TestRegionListPage:
    def _post(self, client: TestClient, data: dict[str, str], files: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
        token = csrf(client, "/pmo/daftar-wilayah")
        return client.post(
            "/pmo/daftar-wilayah", data=data | {"csrf_token": token}, files=files, follow_redirects=False
        )

    def test_import_then_listed(self, admin: TestClient, session: Session) -> None:
        files = {"file": ("lampiran.csv", b"kode,nama\n32.01,Kabupaten Bogor\n93.01,Kabupaten Merauke\n", "text/csv")}
        response = self._post(
            admin, {"name": "kemiskinan-ekstrem-2022", "source": SOURCE, "as_of": "2022-09-27"}, files
        )
        assert response.status_code == 303
        html = admin.get(response.headers["location"]).text
        assert 'data-testid="import-result"' in html and "kemiskinan-ekstrem-2022" in html and SOURCE in html

    @pytest.mark.parametrize(
        ("data", "testid", "code"),
        [
            (
                {"name": "uji", "source": SOURCE, "as_of": "2022-09-27", "codes": "3201\n9999"},
                "file-error",
                "region_unknown",
            ),
            (
                {"name": "Uji Salah", "source": SOURCE, "as_of": "2022-09-27", "codes": "3201"},
                "name-error",
                "region_list_name",
            ),
            (
                {"name": "uji", "source": "", "as_of": "2022-09-27", "codes": "3201"},
                "source-error",
                "region_list_source",
            ),
            (
                {"name": "uji", "source": SOURCE, "as_of": "27/09/2022", "codes": "3201"},
                "as_of-error",
                "region_list_as_of",
            ),
            ({"name": "uji", "source": SOURCE, "as_of": "2022-09-27", "codes": ""}, "file-error", "region_list_empty"),
        ],
    )
    def test_bad_input_changes_nothing(
        self, admin: TestClient, session: Session, data: dict[str, str], testid: str, code: str
    ) -> None:
        before = _audits(session)
        response = self._post(admin, data)
        assert response.status_code == 422
        assert 'data-code="invalid_region_list"' in response.text
        assert f'data-testid="{testid}"' in response.text and f'data-code="{code}"' in response.text
        assert session.scalar(select(func.count()).select_from(RegionList)) == 0
        assert _audits(session) == before

    def test_a_name_is_used_once(self, admin: TestClient, session: Session) -> None:
        data = {"name": "uji", "source": SOURCE, "as_of": "2022-09-27", "codes": "3201"}
        assert self._post(admin, data).status_code == 303
        response = self._post(admin, data | {"codes": "3273"})
        assert response.status_code == 409 and 'data-code="region_list_exists"' in response.text
        session.expire_all()
        assert session.scalars(select(RegionList.codes)).one() == ["3201"]
