"""Ministries import exclusion lists over the signed partner API, through real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import io
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import clock
from prakerja.partners import service as credentials
from prakerja.partners.models import SeenSignature
from prakerja.registration.models import ListEntry, ListImport
from prakerja.registration.service import list_types_for, nik_index
from tests.partners.conftest import Partner, SignedClient, create_partner

PATH = "/partner/v1/exclusion-lists/imports"
NIKS = [f"32010115059{n:05d}" for n in range(1, 6)]
FORM = {"list_type": "asn", "source": "BKN", "as_of": "2026-01-31", "mode": "merge"}


def csv_file(niks: list[str] = NIKS) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("asn.csv", ("nik\n" + "".join(f"{n}\n" for n in niks)).encode(), "text/csv")}


def post(client: SignedClient, partner: Partner | None, key: str | None = "import-1", **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("data", FORM)
    kwargs.setdefault("files", csv_file())
    response, _ = client.request("POST", PATH, partner, idempotency_key=key, **kwargs)
    return response


def counts(session: Session) -> tuple[int, int]:
    session.rollback()
    entries = session.scalar(select(func.count()).select_from(ListEntry)) or 0
    imports = session.scalar(select(func.count()).select_from(ListImport)) or 0
    return int(entries), int(imports)


def assert_error(response, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "message", "message_en", "details"}
    assert body["message"] and body["message_en"] and body["message"] != body["message_en"]


class TestGoodImport:
    def test_csv_import_stored_as_blind_indexes_with_provenance_and_audit(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        response = post(signed_client, ministry)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["rows_read"], body["rows_added"], body["rows_total"], body["kind"]) == (5, 5, 5, "exclusion")
        assert body["source"] == "BKN" and body["as_of"] == "2026-01-31"
        assert "Idempotent-Replayed" not in response.headers
        session.rollback()
        record = session.scalars(select(ListImport)).one()
        credential_id = credentials.signing_credential(session, ministry.client_code).credential_id  # type: ignore[union-attr]
        assert record.imported_via == "partner_api" and record.imported_by == credential_id
        assert list_types_for(session, [nik_index(NIKS[0])]) == {nik_index(NIKS[0]): {"asn"}}
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "registration.list_imported")).one()
        assert entry.actor_id == credential_id and entry.actor_role == "partner:ministry"

    def test_parquet_replace(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        assert post(signed_client, ministry, key="a").status_code == 200
        buffer = io.BytesIO()
        pq.write_table(pa.table({"nik": NIKS[:2]}), buffer)
        response = post(
            signed_client,
            ministry,
            key="b",
            data={**FORM, "mode": "replace"},
            files={"file": ("asn.parquet", buffer.getvalue(), "application/octet-stream")},
        )
        assert response.status_code == 200, response.text
        assert (response.json()["rows_removed"], response.json()["rows_total"]) == (3, 2)
        assert counts(session) == (2, 2)

    def test_ping_answers_who_is_calling(self, signed_client: SignedClient, ministry: Partner) -> None:
        response, _ = signed_client.request("GET", "/partner/v1/ping?probe=1", ministry)
        assert response.status_code == 200, response.text
        assert response.json()["client_code"] == ministry.client_code
        assert response.json()["role"] == "ministry"
        assert response.json()["server_time"] == int(clock.now().timestamp())

    def test_list_file_over_the_limit_refused_nothing_written(
        self, signed_client: SignedClient, ministry: Partner, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from prakerja.registration.service import lists

        monkeypatch.setattr(lists, "MAX_LIST_BYTES", 64)  # the same limit as the PMO page and API (tests/registration)
        assert len(csv_file()["file"][1]) > 64
        assert_error(post(signed_client, ministry), 413, "list_file_too_large")
        assert counts(session) == (0, 0)

    def test_machine_clients_get_no_browser_cookies(self, signed_client: SignedClient, ministry: Partner) -> None:
        response, _ = signed_client.request("GET", "/partner/v1/ping", ministry)
        assert response.status_code == 200, response.text
        assert response.headers.get_list("set-cookie") == []  # no CSRF token, no device id for a server
        page = signed_client.http.get("/")
        assert any("prakerja_device=" in c for c in page.headers.get_list("set-cookie"))  # browsers still get them


class TestAuthentication:
    def test_wrong_signature(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        response = post(signed_client, ministry, secret="not-the-key")
        assert_error(response, 401, "bad_signature")
        assert counts(session) == (0, 0)

    def test_body_changed_after_signing(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        _, sent = signed_client.request("GET", "/partner/v1/ping", ministry)
        tampered = signed_client.http.build_request(
            "POST", PATH, data=FORM, files=csv_file(NIKS[:1]), headers={"Idempotency-Key": "t"}
        )
        for name in ("client_code", "timestamp", "signature"):
            tampered.headers[name] = sent.headers[name]
        assert_error(signed_client.send(tampered), 401, "bad_signature")
        assert counts(session) == (0, 0)

    def test_query_string_is_signed(self, signed_client: SignedClient, ministry: Partner) -> None:
        _, sent = signed_client.request("GET", "/partner/v1/ping?probe=1", ministry)
        moved = signed_client.http.build_request("GET", "/partner/v1/ping?probe=2")
        for name in ("client_code", "timestamp", "signature"):
            moved.headers[name] = sent.headers[name]
        assert_error(signed_client.send(moved), 401, "bad_signature")

    def test_stale_timestamp(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        now = int(clock.now().timestamp())
        assert_error(post(signed_client, ministry, timestamp=now - 301), 401, "stale_timestamp")
        assert_error(post(signed_client, ministry, timestamp=now + 301), 401, "stale_timestamp")
        assert post(signed_client, ministry, timestamp=now - 300).status_code == 200

    def test_replay_refused_within_window(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        first, request = signed_client.request("GET", "/partner/v1/ping", ministry)
        assert first.status_code == 200
        clock.advance(timedelta(seconds=120))
        again = signed_client.send(request)
        assert_error(again, 401, "replayed_request")
        session.rollback()
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1

    def test_replayed_import_is_refused_before_anything_happens(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        first, request = signed_client.request(
            "POST", PATH, ministry, idempotency_key="once", data=FORM, files=csv_file()
        )
        assert first.status_code == 200
        assert_error(signed_client.send(request), 401, "replayed_request")
        assert counts(session) == (5, 1)

    def test_revoked_key(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        credentials.revoke_key(session, key_id=ministry.key_id, actor=Actor.system(), reason="leaked")
        session.commit()
        assert_error(post(signed_client, ministry), 401, "credential_revoked")
        assert counts(session) == (0, 0)

    def test_rotation_keeps_both_keys_until_the_old_is_revoked(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        new = credentials.issue_key(
            session, partner_id=ministry.partner_id, actor=Actor.system(), client_code=ministry.client_code
        )
        session.commit()
        assert new.client_code == ministry.client_code and new.secret != ministry.secret
        assert post(signed_client, ministry, key="old").status_code == 200
        assert post(signed_client, ministry, key="new", secret=new.secret).status_code == 200
        credentials.revoke_key(session, key_id=ministry.key_id, actor=Actor.system())
        session.commit()
        assert_error(post(signed_client, ministry, key="old-2"), 401, "credential_revoked")
        assert post(signed_client, ministry, key="new-2", secret=new.secret).status_code == 200

    def test_suspended_partner_and_revoked_credential(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        credentials.set_status(session, partner_id=ministry.partner_id, status="suspended", actor=Actor.system())
        session.commit()
        assert_error(post(signed_client, ministry, key="s"), 401, "credential_revoked")
        credentials.set_status(session, partner_id=ministry.partner_id, status="active", actor=Actor.system())
        session.commit()
        assert post(signed_client, ministry, key="a").status_code == 200
        credentials.revoke_credential(session, client_code=ministry.client_code, actor=Actor.system())
        session.commit()
        assert_error(post(signed_client, ministry, key="r"), 401, "credential_revoked")

    def test_missing_headers_and_unknown_client(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        assert_error(post(signed_client, None), 401, "missing_signature")
        response = post(signed_client, ministry, omit=("signature",))
        assert_error(response, 401, "missing_signature")
        assert response.json()["details"] == {"missing": ["signature"]}
        stranger = Partner(ministry.partner_id, "min_0000000000000000", ministry.key_id, ministry.secret)
        assert_error(post(signed_client, stranger), 401, "unknown_client")
        assert counts(session) == (0, 0)

    def test_platform_role_forbidden(self, signed_client: SignedClient, session: Session) -> None:
        platform = create_partner(session, name="Platform Belajar", role="platform")
        assert_error(post(signed_client, platform), 403, "partner_role_forbidden")
        assert counts(session) == (0, 0)
        ping, _ = signed_client.request("GET", "/partner/v1/ping", platform)
        assert ping.status_code == 200


class TestIdempotency:
    def test_missing_idempotency_key(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        assert_error(post(signed_client, ministry, key=None), 400, "idempotency_key_required")
        assert_error(post(signed_client, ministry, key="has space"), 400, "idempotency_key_required")
        assert counts(session) == (0, 0)

    def test_same_key_same_request_returns_the_first_response_and_imports_once(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        first, sent = signed_client.request(
            "POST", PATH, ministry, idempotency_key="batch-7", data=FORM, files=csv_file()
        )
        assert first.status_code == 200
        clock.advance(timedelta(seconds=30))  # a retry: the same bytes, signed again with a new timestamp
        again, _ = signed_client.request(
            "POST",
            PATH,
            ministry,
            idempotency_key="batch-7",
            content=sent.content,
            headers={"content-type": sent.headers["content-type"]},
        )
        assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert counts(session) == (5, 1)
        session.rollback()
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "registration.list_imported")
            )
            == 1
        )

    def test_same_key_different_request_is_a_mismatch(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        fixed = {"content-type": "multipart/form-data; boundary=batas"}  # so only the field below differs
        assert post(signed_client, ministry, key="k", headers=fixed).status_code == 200
        clock.advance(timedelta(seconds=1))
        same = post(signed_client, ministry, key="k", headers=fixed)
        assert same.status_code == 200 and same.headers["Idempotent-Replayed"] == "true"
        clock.advance(timedelta(seconds=1))
        different = post(signed_client, ministry, key="k", headers=fixed, data={**FORM, "as_of": "2026-02-01"})
        assert_error(different, 422, "idempotency_key_mismatch")
        assert counts(session) == (5, 1)

    def test_keys_are_scoped_per_credential(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        other = create_partner(session, name="Kementerian Sosial", source="Kemensos")
        assert post(signed_client, ministry, key="same").status_code == 200
        second = post(signed_client, other, key="same", data={**FORM, "source": "Kemensos"})
        assert second.status_code == 200 and "Idempotent-Replayed" not in second.headers
        session.rollback()
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 2


class TestBadFiles:
    def test_malformed_files_refused_nothing_written(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        cases = [
            ({"file": ("x.csv", b"nama\nBudi\n", "text/csv")}, FORM, "list_file_invalid"),
            ({"file": ("x.parquet", b"PAR1 not parquet", "application/octet-stream")}, FORM, "list_file_invalid"),
            ({"file": ("x.csv", b"nik\nabc\n", "text/csv")}, FORM, "list_file_empty"),
            ({"file": ("x.csv", b"\xff\xfe\x00n", "text/csv")}, FORM, "list_file_invalid"),
            (csv_file(), {**FORM, "list_type": "pns_palsu"}, "list_type_unknown"),
            (csv_file(), {**FORM, "as_of": "kemarin"}, "invalid_request"),
        ]
        for number, (files, data, code) in enumerate(cases):
            response = post(signed_client, ministry, key=f"bad-{number}", files=files, data=data)
            assert_error(response, 422, code)
        response = post(signed_client, ministry, key="no-file", files=None)
        assert_error(response, 422, "invalid_request")
        assert counts(session) == (0, 0)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "registration.list_imported")
            )
            == 0
        )


def test_openapi_lists_the_error_codes(signed_client: SignedClient) -> None:
    spec = signed_client.http.get("/openapi.json").json()
    operation = spec["paths"][PATH]["post"]
    listed = {code for response in operation["responses"].values() for code in response.get("x-error-codes", [])}
    assert {
        "missing_signature",
        "bad_signature",
        "unknown_client",
        "stale_timestamp",
        "replayed_request",
        "credential_revoked",
        "partner_role_forbidden",
        "idempotency_key_required",
        "idempotency_key_mismatch",
        "idempotency_key_in_use",
        "list_file_invalid",
    } <= listed
    assert "`bad_signature`" in operation["responses"]["401"]["description"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"client_code", "timestamp", "signature", "Idempotency-Key"} <= names


class TestSeveralProcesses:
    def test_a_replay_sent_to_another_web_process_is_refused(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        """Two servers (each its own app, engine pool and threads) share only PostgreSQL."""
        import threading
        import time

        import httpx
        import uvicorn

        from prakerja.app import create_app
        from tests.conftest import free_port

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            first, request = signed_client.request(
                "POST", PATH, ministry, idempotency_key="x", data=FORM, files=csv_file()
            )
            assert first.status_code == 200
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as other:
                replay = other.send(request)
            assert_error(replay, 401, "replayed_request")
            assert counts(session) == (5, 1)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def test_seen_signatures_are_purged_after_the_window(
    signed_client: SignedClient, ministry: Partner, session: Session
) -> None:
    from prakerja.partners import tasks

    assert signed_client.request("GET", "/partner/v1/ping", ministry)[0].status_code == 200
    assert tasks.purge_signatures() == 0
    clock.advance(timedelta(seconds=301))
    assert signed_client.request("GET", "/partner/v1/ping", ministry)[0].status_code == 200
    assert tasks.purge_signatures() == 1
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1


def test_oversized_body_refused_before_anything_is_read(
    signed_client: SignedClient, ministry: Partner, session: Session, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from prakerja.partners import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1024)
    response = post(
        signed_client, ministry, files={"file": ("big.csv", b"nik\n" + b"3201011505950001\n" * 200, "text/csv")}
    )
    assert_error(response, 413, "body_too_large")
    assert counts(session) == (0, 0)


def test_unsigned_callers_are_refused_before_their_body_is_read(
    signed_client: SignedClient, ministry: Partner, session: Session, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from prakerja.partners import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1024)
    big = {"file": ("big.csv", b"nik\n" + b"3201011505950001\n" * 200, "text/csv")}
    assert_error(post(signed_client, None, files=big), 401, "missing_signature")
    stale = int(clock.now().timestamp()) - 3600
    assert_error(post(signed_client, ministry, files=big, timestamp=stale), 401, "stale_timestamp")
