"""The JSON identity submission (what the intake benchmark drives) and the offline bulk import."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.registration.models import Applicant
from prakerja.registration.service import bulk, nik_index
from tests.registration.conftest import person


def body(index: int = 1, **overrides: str) -> dict[str, str]:
    p = person(index)
    return {
        "nik": str(p["nik"]),
        "kk": str(p["kk"]),
        "birth_date": str(p["birth_date"]),
        "sex": str(p["sex"]),
        "full_name": str(p["full_name"]),
        "mother_maiden_name": str(p["mother_maiden_name"]),
    } | overrides


def counts(session: Session) -> tuple[int, int]:
    applicants = session.scalar(select(func.count()).select_from(Applicant))
    jobs = session.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one()
    return int(applicants or 0), int(jobs)


class TestIdentityApi:
    def test_accepted_and_job_queued(self, applicant_client: TestClient, session: Session) -> None:
        response = applicant_client.post("/api/v1/registration/identity", json=body())
        assert response.status_code == 202 and response.json()["identity_status"] == "pending"
        assert counts(session)[0] == 1
        jobs = "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'registration.verify_identity'"
        assert session.execute(text(jobs)).scalar_one() == 1
        assert applicant_client.get("/api/v1/registration/identity").json()["identity_status"] == "pending"

    @pytest.mark.parametrize(
        ("overrides", "status", "code", "fields"),
        [
            ({"nik": "123"}, 422, "invalid_input", {"nik": "nik_format"}),
            ({"kk": "abc"}, 422, "invalid_input", {"kk": "kk_format"}),
            ({"birth_date": "1980-01-01"}, 422, "invalid_input", {"nik": "nik_birthdate_mismatch"}),
            (
                {"full_name": "<img src=x onerror=alert(1)>"},
                422,
                "invalid_input",
                {"full_name": "name_invalid_characters"},
            ),
            ({"mother_maiden_name": ""}, 422, "invalid_input", {"mother_maiden_name": "name_required"}),
            ({"sex": "X"}, 422, "invalid_input", {"sex": "sex_required"}),
        ],
    )
    def test_refusals_are_field_level_and_write_nothing(
        self,
        applicant_client: TestClient,
        session: Session,
        overrides: dict[str, str],
        status: int,
        code: str,
        fields: dict[str, str],
    ) -> None:
        before = counts(session)
        response = applicant_client.post("/api/v1/registration/identity", json=body(**overrides))
        assert response.status_code == status
        payload = response.json()
        assert payload["code"] == code and payload["message"] and payload["message_en"]
        found = {f["field"]: f["code"] for f in payload["details"]["fields"]}
        assert found.items() >= fields.items()
        assert all(f["message"] and f["message_en"] for f in payload["details"]["fields"])
        assert counts(session) == before

    def test_malformed_and_oversized_payloads(self, applicant_client: TestClient, session: Session) -> None:
        before = counts(session)
        assert applicant_client.post("/api/v1/registration/identity", json={"nik": "1"}).status_code == 422
        huge = applicant_client.post("/api/v1/registration/identity", json=body(full_name="A" * 10_000))
        assert huge.status_code == 422 and huge.json()["code"] == "invalid_request"
        assert counts(session) == before

    def test_duplicate_nik(self, client: TestClient, session: Session) -> None:
        from tests.registration.conftest import sign_up

        sign_up(client, "a@example.org")
        assert client.post("/api/v1/registration/identity", json=body()).status_code == 202
        client.cookies.clear()
        sign_up(client, "b@example.org")
        before = counts(session)
        response = client.post("/api/v1/registration/identity", json=body())
        assert response.status_code == 409 and response.json()["code"] == "nik_taken"
        assert response.json()["details"]["fields"][0]["field"] == "nik"
        assert counts(session) == before

    def test_stored_encrypted_with_its_check_and_job(self, applicant_client: TestClient, session: Session) -> None:
        """The one-statement insert writes what the ORM path wrote: encrypted fields the model decrypts, blind
        indexes, the pending check and the job carrying that check's id."""
        sent = body(2)
        response = applicant_client.post("/api/v1/registration/identity", json=sent)
        assert response.status_code == 202
        applicant = session.scalars(select(Applicant)).one()
        assert str(applicant.id) == response.json()["applicant_id"]
        assert (applicant.nik, applicant.kk, applicant.birth_date) == (sent["nik"], sent["kk"], sent["birth_date"])
        assert applicant.full_name == sent["full_name"] and applicant.identity_status == "pending"
        assert applicant.nik_index == nik_index(sent["nik"]) and applicant.registration_ip_index is not None
        raw = session.execute(text("SELECT nik, full_name FROM registration_applicants")).one()
        assert sent["nik"].encode() not in bytes(raw.nik) and sent["full_name"].encode() not in bytes(raw.full_name)
        check_id = session.execute(text("SELECT id FROM registration_identity_checks")).scalar_one()
        args = session.execute(
            text("SELECT args FROM procrastinate_jobs WHERE task_name = 'registration.verify_identity'")
        ).scalar_one()
        assert args == {"check_id": str(check_id)}

    def test_signed_out_is_401(self, client: TestClient) -> None:
        assert client.post("/api/v1/registration/identity", json=body()).status_code == 401

    def test_a_second_submission_takes_the_general_path_then_a_matched_identity_is_locked(
        self, applicant_client: TestClient, session: Session
    ) -> None:
        """The first submission is one statement on a loop connection; the same account's next one finds its profile
        (the statement writes nothing) and is taken by the general path on a Session: same applicant, a new check and
        job. Once the registry matched the identity, a new one is refused and nothing is written."""
        first = applicant_client.post("/api/v1/registration/identity", json=body(3))
        second = applicant_client.post("/api/v1/registration/identity", json=body(3, full_name="Siti Aminah Putri"))
        assert first.status_code == second.status_code == 202
        assert first.json()["applicant_id"] == second.json()["applicant_id"]
        applicant = session.scalars(select(Applicant)).one()
        assert applicant.full_name == "Siti Aminah Putri" and applicant.identity_status == "pending"
        checks_and_jobs = text(
            "SELECT (SELECT count(*) FROM registration_identity_checks), "
            "(SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'registration.verify_identity')"
        )
        assert tuple(session.execute(checks_and_jobs).one()) == (2, 2)
        session.execute(text("UPDATE registration_applicants SET identity_status = 'matched'"))
        session.commit()
        locked = applicant_client.post("/api/v1/registration/identity", json=body(3))
        assert locked.status_code == 409 and locked.json()["code"] == "identity_locked"
        assert tuple(session.execute(checks_and_jobs).one()) == (2, 2)


class TestBulk:
    def rows(self, n: int) -> list[list[str]]:
        out = []
        for i in range(n):
            p = person(i)
            out.append(
                [str(p[k]) for k in ("nik", "kk", "birth_date", "sex", "full_name", "mother_maiden_name")]
                + [f"{p['regency']}01"]
            )
        return out

    def test_import_skips_invalid_and_already_registered(self, session: Session) -> None:
        rows = [*self.rows(20), ["123", "x", "1990-01-01", "M", "Budi", "Ani", "320101"]]
        first = bulk.import_rows(session, rows)
        session.commit()
        assert (first.rows_read, first.rows_invalid, first.rows_inserted, first.rows_duplicate) == (21, 1, 20, 0)
        again = bulk.import_rows(session, rows[:5])
        session.commit()
        assert (again.rows_inserted, again.rows_duplicate) == (0, 5)
        applicant = session.scalars(select(Applicant).where(Applicant.nik_index == nik_index(rows[3][0]))).one()
        assert (
            applicant.nik == rows[3][0] and applicant.account_id is None and applicant.domicile_district == rows[3][6]
        )

    @staticmethod
    def subtransactions(session: Session) -> tuple[int, bool]:
        """This session's backend's cached subtransactions and whether the cache overflowed (PostgreSQL 16+)."""
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = session.execute(
            text(
                "SELECT x.subxact_count, x.subxact_overflowed FROM pg_stat_get_backend_idset() AS b(id),"
                " pg_stat_get_backend_subxact(b.id) AS x WHERE pg_stat_get_backend_pid(b.id) = pg_backend_pid()"
            )
        ).one()
        return int(row[0]), bool(row[1])

    def test_many_chunks_keep_the_transaction_under_64_subtransactions(self, session: Session) -> None:
        """A savepoint per chunk gave a 100-chunk import 100 subtransactions (PostgreSQL's cache of 64 overflowed,
        slowing every other session's snapshots); the chunks' groups give it a handful, with a repeated NIK in a
        late group still skipped and counted, and the import still whole."""
        rows = self.rows(306)
        session.execute(text("SELECT 1"))  # the transaction open before the import, as the CLI's is
        result = bulk.import_rows(session, [*rows[:250], rows[10], *rows[250:]], chunk_size=3)
        count, overflowed = self.subtransactions(session)
        assert not overflowed and count <= 16
        assert (result.rows_read, result.rows_inserted, result.rows_duplicate) == (307, 306, 1)
        assert session.scalar(select(func.count()).select_from(Applicant)) == 306
        session.rollback()  # all or nothing: the import was in the caller's transaction
        assert session.scalar(select(func.count()).select_from(Applicant)) == 0
        again = bulk.import_rows(session, rows[:200], chunk_size=3)
        session.commit()
        first = bulk.import_rows(session, rows, chunk_size=3)
        assert (first.rows_inserted, first.rows_duplicate) == (106, 200)
        session.commit()
        assert again.rows_inserted == 200 and counts(session)[0] == 306

    def test_cli(self, session: Session, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from prakerja.cli import app

        path = tmp_path / "offline.csv"
        path.write_text(",".join(bulk.COLUMNS) + "\n" + "\n".join(",".join(r) for r in self.rows(10)) + "\n")
        result = CliRunner().invoke(app, ["registration", "import-offline", str(path)])
        assert result.exit_code == 0, result.output
        assert "registered 10" in result.output
        bad = tmp_path / "bad.csv"
        bad.write_text("nik,nama\n1,2\n")
        assert CliRunner().invoke(app, ["registration", "import-offline", str(bad)]).exit_code == 2


class TestBulkOnEveryCore:
    """The import with its chunks prepared by forked processes and inserted chunk by chunk (issue 15)."""

    rows = TestBulk.rows

    def test_pool_registers_every_field_as_the_wizard_would(self, session: Session) -> None:
        from prakerja.kit.pii import blind_index

        rows = self.rows(45)
        rows[7] = [rows[7][0], "0" * 16, *rows[7][2:]]  # refused KK
        with bulk.preparers(2) as pool:
            assert pool is not None
            # chunks of 10, one repeat of an earlier chunk's NIK inside the file
            result = bulk.import_rows(session, [*rows, rows[3]], chunk_size=10, pool=pool)
        session.commit()
        assert (result.rows_read, result.rows_invalid, result.rows_inserted, result.rows_duplicate) == (46, 1, 44, 1)
        for row in (rows[0], rows[29], rows[44]):
            nik, kk, birth, sex, name, mother, district = row
            applicant = session.scalars(select(Applicant).where(Applicant.nik_index == nik_index(nik))).one()
            assert (applicant.nik, applicant.kk, applicant.birth_date, applicant.sex) == (nik, kk, birth, sex)
            assert (applicant.full_name, applicant.mother_maiden_name) == (name, mother)
            assert applicant.kk_index == blind_index(kk, "kk") and applicant.nik_index == blind_index(nik, "nik")
            assert (applicant.domicile_province, applicant.domicile_regency, applicant.domicile_district) == (
                district[:2],
                district[:4],
                district,
            )
            assert applicant.account_id is None and applicant.identity_status == "unsubmitted"
        ids = session.scalars(select(Applicant.id)).all()
        assert len(set(ids)) == 44 and all(i.version == 7 for i in ids)

    def test_pool_import_is_idempotent(self, session: Session) -> None:
        rows = self.rows(30)
        with bulk.preparers(2) as pool:
            first = bulk.import_rows(session, rows[:20], chunk_size=7, pool=pool)
            session.commit()
            again = bulk.import_rows(session, rows, chunk_size=7, pool=pool)
            session.commit()
        assert (first.rows_inserted, again.rows_inserted, again.rows_duplicate) == (20, 10, 20)
        assert counts(session)[0] == 30

    def test_a_failing_chunk_leaves_nothing(self, session: Session) -> None:
        inserted_before_failure = []

        def rows():  # type: ignore[no-untyped-def]
            yield from self.rows(60)
            inserted_before_failure.append(counts(session)[0])  # between chunks the connection is free
            raise OSError("file read failed half way")

        with bulk.preparers(2) as pool, pytest.raises(OSError):
            bulk.import_rows(session, rows(), chunk_size=10, pool=pool)
        session.rollback()
        assert inserted_before_failure[0] >= 10  # earlier chunks were in the table, in the same transaction
        assert counts(session)[0] == 0

    def test_cli_prepares_a_large_file_in_forked_processes(
        self, session: Session, tmp_path, monkeypatch: pytest.MonkeyPatch
    ) -> None:  # type: ignore[no-untyped-def]
        from prakerja.cli import app

        monkeypatch.setattr(bulk, "SMALL_FILE_BYTES", 0)  # every file counts as large
        forked = []
        real = bulk.preparers

        def watched(processes: int | None = None):  # type: ignore[no-untyped-def]
            forked.append(processes)
            return real(processes)

        monkeypatch.setattr(bulk, "preparers", watched)
        path = tmp_path / "offline.csv"
        path.write_text(",".join(bulk.COLUMNS) + "\n" + "\n".join(",".join(r) for r in self.rows(30)) + "\n")
        result = CliRunner().invoke(app, ["registration", "import-offline", str(path)])
        assert result.exit_code == 0, result.output
        assert "registered 30" in result.output and forked == [None]
        assert counts(session)[0] == 30
