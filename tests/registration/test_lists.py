"""Exclusion lists and whitelists: CSV and Parquet, by CLI and by API, blind indexes only, replace or merge,
provenance, and the set-based look-ups selection uses."""

from __future__ import annotations

import datetime
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.registration.errors import ListFileInvalid
from prakerja.registration.models import EXCLUSION_TYPES, WHITELIST_TYPES, ListEntry, ListImport
from prakerja.registration.rules.listfiles import LIST_TYPE_NAMES
from prakerja.registration.service import list_types_for, lists, nik_index, whitelist_types_for
from tests.registration.conftest import csrf
from tests.web.test_shell import create_account, login

NIKS = [f"32010115059{n:05d}" for n in range(1, 6)]


def csv_bytes(niks: list[str], extra: list[str] | None = None) -> bytes:
    return ("nik,nama_instansi\n" + "".join(f"{n},X\n" for n in niks + (extra or []))).encode()


def run(
    session: Session,
    data: bytes,
    *,
    list_type: str = "asn",
    mode: str = "merge",
    source: str = "BKN",
    name: str = "f.csv",
):  # type: ignore[no-untyped-def]
    result = lists.import_list(
        session,
        data=data,
        filename=name,
        list_type=list_type,
        source=source,
        as_of=datetime.date(2026, 1, 31),
        mode=mode,
        actor=Actor.system(),
        via="cli",
    )
    session.commit()
    return result


def entries(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ListEntry)) or 0)


class TestImport:
    def test_merge_then_replace_with_provenance(self, session: Session) -> None:
        first = run(session, csv_bytes(NIKS[:3], extra=["bukan-nik", "123"]))
        assert (first.rows_read, first.rows_invalid, first.rows_added, first.rows_total) == (5, 2, 3, 3)
        second = run(session, csv_bytes(NIKS[2:4]))
        assert (second.rows_added, second.rows_total) == (1, 4)
        third = run(session, csv_bytes(NIKS[3:5]), mode="replace")
        assert (third.rows_added, third.rows_removed, third.rows_total) == (1, 3, 2)
        record = session.scalars(select(ListImport).order_by(ListImport.created_at.desc())).first()
        assert record is not None and record.source == "BKN" and record.as_of == datetime.date(2026, 1, 31)
        assert record.mode == "replace" and record.imported_via == "cli"
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "registration.list_imported")
            )
            == 3
        )

    def test_only_blind_indexes_are_stored(self, session: Session) -> None:
        run(session, csv_bytes(NIKS))
        raw = session.execute(
            text("SELECT string_agg(encode(nik_index, 'escape'), '') FROM registration_list_entries")
        ).scalar_one()
        assert all(n not in raw for n in NIKS)
        assert {bytes(i) for i in session.scalars(select(ListEntry.nik_index))} == {nik_index(n) for n in NIKS}

    def test_replace_is_scoped_to_its_source(self, session: Session) -> None:
        run(session, csv_bytes(NIKS[:2]), list_type="student", source="Kemendikbudristek")
        run(session, csv_bytes(NIKS[2:4]), list_type="student", source="Kemenag")
        run(session, csv_bytes(NIKS[:1]), list_type="student", source="Kemendikbudristek", mode="replace")
        found = list_types_for(session, [nik_index(n) for n in NIKS])
        assert set(found) == {nik_index(NIKS[0]), nik_index(NIKS[2]), nik_index(NIKS[3])}

    def test_parquet(self, session: Session) -> None:
        buffer = io.BytesIO()
        pq.write_table(pa.table({"nik": [*NIKS, None]}), buffer)
        result = run(session, buffer.getvalue(), name="daftar.parquet", list_type="other_aid_dtks", source="Kemensos")
        assert (result.rows_read, result.rows_invalid, result.rows_total) == (6, 1, 5)

    def test_set_based_lookups(self, session: Session) -> None:
        run(session, csv_bytes(NIKS[:2]), list_type="tni", source="TNI")
        run(session, csv_bytes(NIKS[1:3]), list_type="other_aid_bsu", source="Kemnaker")
        run(session, csv_bytes(NIKS[3:4]), list_type="laid_off", source="Kemnaker")
        indexes = [nik_index(n) for n in NIKS]
        assert list_types_for(session, indexes) == {
            indexes[0]: {"tni"},
            indexes[1]: {"tni", "other_aid_bsu"},
            indexes[2]: {"other_aid_bsu"},
        }
        assert whitelist_types_for(session, indexes) == {indexes[3]: {"laid_off"}}

    def test_exclusion_types_are_the_engines(self) -> None:
        from prakerja.eligibility.rules import LIST_TYPES
        from prakerja.registration.models import EXCLUSION_TYPES

        assert set(EXCLUSION_TYPES) == set(LIST_TYPES)

    @pytest.mark.parametrize(
        ("data", "kwargs", "code"),
        [
            (b"", {}, "list_file_invalid"),
            (b"nama\nBudi\n", {}, "list_file_invalid"),
            (b"nik\nabc\n12\n", {}, "list_file_empty"),
            (csv_bytes(NIKS), {"list_type": "pns_palsu"}, "list_type_unknown"),
            (csv_bytes(NIKS), {"mode": "append"}, "list_mode_invalid"),
            (csv_bytes(NIKS), {"source": "  "}, "list_source_invalid"),
            (b"PAR1not really parquet", {"name": "x.parquet"}, "list_file_invalid"),
        ],
    )
    def test_bad_files_refused_nothing_written(
        self, session: Session, data: bytes, kwargs: dict[str, str], code: str
    ) -> None:
        with pytest.raises(ListFileInvalid) as raised:
            run(session, data, **kwargs)
        session.rollback()
        assert raised.value.code == code and raised.value.status_code == 422
        assert entries(session) == 0 and session.scalar(select(func.count()).select_from(ListImport)) == 0


def csrf_header(client: TestClient) -> dict[str, str]:
    """Cookie-authenticated API writes echo the CSRF cookie."""
    return {"x-csrf-token": client.cookies.get("prakerja_csrf") or ""}


class TestApiAndCli:
    def test_api_import_for_pmo_admin(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        response = client.post(
            "/api/v1/exclusion-lists/imports",
            data={"list_type": "polri", "source": "Polri", "as_of": "2026-02-01", "mode": "replace"},
            files={"file": ("polri.csv", csv_bytes(NIKS), "text/csv")},
            headers=csrf_header(client),
        )
        assert response.status_code == 200, response.text
        assert response.json()["rows_total"] == 5 and response.json()["kind"] == "exclusion"
        imported = session.scalars(select(ListImport)).one()
        assert imported.imported_via == "api" and imported.imported_by is not None

    def test_api_refusals(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        create_account(session, email="siti@example.org")
        login(client)
        data = {"list_type": "polri", "source": "Polri", "as_of": "2026-02-01"}
        files = {"file": ("p.csv", csv_bytes(NIKS), "text/csv")}
        assert (
            client.post(
                "/api/v1/exclusion-lists/imports", data=data, files=files, headers=csrf_header(client)
            ).status_code
            == 403
        )
        client.cookies.clear()
        login(client, "admin@example.org")
        bad = client.post(
            "/api/v1/exclusion-lists/imports", data={**data, "list_type": "x"}, files=files, headers=csrf_header(client)
        )
        assert bad.status_code == 422 and bad.json()["code"] == "list_type_unknown"
        bad_date = client.post(
            "/api/v1/exclusion-lists/imports",
            data={**data, "as_of": "kemarin"},
            files=files,
            headers=csrf_header(client),
        )
        assert bad_date.status_code == 422 and bad_date.json()["code"] == "invalid_request"
        assert entries(session) == 0

    def test_cli_import(self, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from prakerja.cli import app

        path = tmp_path / "asn.csv"
        path.write_bytes(csv_bytes(NIKS))
        result = CliRunner().invoke(
            app, ["exclusions", "import", str(path), "--type", "asn", "--source", "BKN", "--as-of", "2026-01-31"]
        )
        assert result.exit_code == 0, result.output
        assert "added 5" in result.output and entries(session) == 5
        refused = CliRunner().invoke(
            app, ["exclusions", "import", str(path), "--type", "nope", "--source", "BKN", "--as-of", "2026-01-31"]
        )
        assert refused.exit_code == 2 and "list_type_unknown" in refused.output


class TestSizeLimit:
    """One limit for every route that takes a list file (the PMO page read the whole upload before); the partner
    API's case is in tests/partners/test_exclusion_import_api.py."""

    def test_every_route_refuses_a_file_over_the_limit(
        self, client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(lists, "MAX_LIST_BYTES", 64)
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        data = {"list_type": "polri", "source": "Polri", "as_of": "2026-02-01", "mode": "replace"}
        files = {"file": ("polri.csv", csv_bytes(NIKS), "text/csv")}
        assert len(csv_bytes(NIKS)) > 64
        api = client.post("/api/v1/exclusion-lists/imports", data=data, files=files, headers=csrf_header(client))
        assert api.status_code == 413 and api.json()["code"] == "list_file_too_large"
        token = csrf(client, "/pmo/daftar-pengecualian")
        page = client.post("/pmo/daftar-pengecualian", data=data | {"csrf_token": token}, files=files)
        assert page.status_code == 413 and "terlalu besar" in page.text
        assert entries(session) == 0 and session.scalar(select(func.count()).select_from(ListImport)) == 0


class TestPageInWords:
    """The officer's list page says each list type, import mode and way in words, never their codes."""

    def test_every_list_type_has_words(self) -> None:
        assert sorted(set(EXCLUSION_TYPES) | set(WHITELIST_TYPES)) == sorted(LIST_TYPE_NAMES)

    def test_an_import_on_the_page_is_shown_in_words(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        form = client.get("/pmo/daftar-pengecualian").text
        assert '<option value="state_official">Pejabat negara</option>' in form
        data = {"list_type": "polri", "source": "Polri", "as_of": "2026-02-01", "mode": "merge"}
        files = {"file": ("polri.csv", csv_bytes(NIKS), "text/csv")}
        token = csrf(client, "/pmo/daftar-pengecualian")
        page = client.post("/pmo/daftar-pengecualian", data=data | {"csrf_token": token}, files=files)
        assert page.status_code == 200 and entries(session) == len(NIKS)
        assert "Diimpor: Anggota Polri" in page.text
        assert "<td>Anggota Polri</td>" in page.text and "<td>Gabung</td>" in page.text and "(halaman PMO)" in page.text
        assert "<td>polri</td>" not in page.text and "<td>merge</td>" not in page.text and "(web)" not in page.text
