"""Issuing, verifying, revoking and key rotation against the real database."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.certificates import service
from prakerja.certificates.errors import (
    AlreadyRevoked,
    CertificateInvalid,
    CertificateNotFound,
    CompletionMismatch,
    RevocationReasonRequired,
)
from prakerja.certificates.models import Certificate
from prakerja.kit.ids import new_id
from tests.certificates.conftest import HOLDER, OFFICER, issue_certificate


class TestIssue:
    def test_issued_certificate_verifies(self, session: Session) -> None:
        certificate = issue_certificate(session)
        session.commit()
        document = service.credential_of(certificate)
        assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert document["credentialSubject"]["name"] == HOLDER
        assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        assert document["proof"]["verificationMethod"].startswith(service.did() + "#")
        result = service.verify_credential(session, document)
        assert (result.valid, result.reason, result.status_checked) == (True, "valid", True)
        assert result.certificate_id == str(certificate.id)

    def test_same_completion_gives_the_same_certificate(self, session: Session) -> None:
        completion, recipient = new_id(), new_id()
        first = issue_certificate(session, completion_id=completion, recipient_id=recipient)
        again = issue_certificate(session, completion_id=completion, recipient_id=recipient, score=12)
        assert again.id == first.id and again.score == first.score
        assert session.scalar(select(func.count()).select_from(Certificate)) == 1
        with pytest.raises(CompletionMismatch):
            issue_certificate(session, completion_id=completion)

    def test_holder_name_is_stored_encrypted(self, session: Session) -> None:
        issue_certificate(session)
        session.commit()
        raw = session.execute(text("SELECT encode(holder_name, 'escape') FROM certificates_certificates")).scalar_one()
        assert "Dewi" not in raw and "Lestari" not in raw
        everything = session.execute(text("SELECT row_to_json(c)::text FROM certificates_certificates c")).scalar_one()
        assert "Lestari" not in everything

    def test_credential_is_rebuilt_identically(self, session: Session) -> None:
        certificate = issue_certificate(session)
        session.commit()
        session.expire_all()
        reread = service.get(session, str(certificate.id))
        assert service.credential_of(reread) == service.credential_of(certificate)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"score": 101}, "score"),
            ({"score": -1}, "score"),
            ({"holder_name": "   "}, "holder_name"),
            ({"course_title": "x" * 301}, "course_title"),
            ({"completed_at": datetime(2099, 1, 1, tzinfo=UTC)}, "completed_at"),
        ],
    )
    def test_bad_input_is_refused_and_nothing_written(self, session: Session, change: dict, field: str) -> None:  # type: ignore[type-arg]
        with pytest.raises(CertificateInvalid) as refused:
            issue_certificate(session, **change)
        assert refused.value.code == "certificate_invalid" and refused.value.details["field"] == field
        assert session.scalar(select(func.count()).select_from(Certificate)) == 0

    def test_status_indexes_are_never_reused(self, session: Session) -> None:
        first = issue_certificate(session)
        service.revoke(session, str(first.id), reason="Data penyelesaian keliru", actor=OFFICER)
        second = issue_certificate(session)
        third = issue_certificate(session)
        assert len({first.status_index, second.status_index, third.status_index}) == 3


class TestTampering:
    @pytest.mark.parametrize(
        "path",
        [
            ("credentialSubject", "name"),
            ("credentialSubject", "result", 0, "value"),
            ("credentialSubject", "achievement", "name"),
            ("validFrom",),
        ],
    )
    def test_changed_field_is_refused(self, session: Session, path: tuple) -> None:  # type: ignore[type-arg]
        document = service.credential_of(issue_certificate(session))
        tampered = copy.deepcopy(document)
        target = tampered
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = {"name": "Ni Made Dewa", "value": "100", "validFrom": "2020-01-01T00:00:00Z"}.get(
            path[-1], "Kursus Lain"
        )
        result = service.verify_credential(session, tampered)
        assert not result.valid and result.reason == "signature_invalid"

    def test_added_field_is_refused(self, session: Session) -> None:
        document = service.credential_of(issue_certificate(session))
        document["credentialSubject"]["grade"] = "A+"
        result = service.verify_credential(session, document)
        assert not result.valid and result.reason == "undefined_term"


class TestRevoke:
    def test_revoked_certificate_is_reported_revoked_through_the_served_list(
        self, session: Session, client: TestClient
    ) -> None:
        certificate = issue_certificate(session)
        session.commit()
        document = client.get(f"/sertifikat/{certificate.id}.json").json()
        did_document = client.get("/.well-known/did.json").json()
        list_url = document["credentialStatus"]["statusListCredential"]
        path = "/" + list_url.split("/", 3)[3]
        before = service.verify_offline(document, did_document, client.get(path).json())
        assert before.valid and before.status_checked

        service.revoke(session, str(certificate.id), reason="Penyelesaian dibatalkan", actor=OFFICER)
        session.commit()
        after = service.verify_offline(document, did_document, client.get(path).json())
        assert (after.valid, after.revoked, after.reason) == (False, True, "revoked")
        assert service.verify_credential(session, document).reason == "revoked"

    def test_revocation_is_audited_with_reason(self, session: Session) -> None:
        certificate = issue_certificate(session)
        service.revoke(session, str(certificate.id), reason="Nilai dimanipulasi", actor=OFFICER)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.revoked")).one()
        assert (entry.object_id, entry.reason, entry.actor_id) == (
            str(certificate.id),
            "Nilai dimanipulasi",
            OFFICER.id,
        )
        assert service.event_data(certificate) == {
            "certificate_id": str(certificate.id),
            "completion_id": str(certificate.completion_id),
        }

    def test_refusals(self, session: Session) -> None:
        certificate = issue_certificate(session)
        with pytest.raises(RevocationReasonRequired):
            service.revoke(session, str(certificate.id), reason=" ", actor=OFFICER)
        with pytest.raises(CertificateNotFound):
            service.revoke(session, str(new_id()), reason="x", actor=OFFICER)
        with pytest.raises(CertificateNotFound):
            service.revoke(session, "not-an-id", reason="x", actor=OFFICER)
        service.revoke(session, str(certificate.id), reason="x", actor=OFFICER)
        with pytest.raises(AlreadyRevoked) as twice:
            service.revoke(session, str(certificate.id), reason="y", actor=OFFICER)
        assert twice.value.status_code == 409


class TestKeyRotation:
    def test_old_certificate_stays_verifiable_and_did_document_lists_both_keys(self, session: Session) -> None:
        old = issue_certificate(session)
        old_key = old.key_id
        new_key = service.rotate(session, actor=OFFICER)
        new = issue_certificate(session)
        session.commit()
        assert new.key_id == new_key.id != old_key
        did_document = service.did_document(session)
        listed = [method["id"].partition("#")[2] for method in did_document["verificationMethod"]]
        assert listed == [old_key, new_key.id]
        assert did_document["assertionMethod"] == [m["id"] for m in did_document["verificationMethod"]]
        for certificate, key in ((old, old_key), (new, new_key.id)):
            result = service.verify_credential(session, service.credential_of(certificate))
            assert result.valid and result.key_id == key
        rotated = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.key_rotated")).one()
        assert rotated.object_id == new_key.id

    def test_key_missing_from_did_document_is_refused(self, session: Session) -> None:
        document = service.credential_of(issue_certificate(session))
        did_document = service.did_document(session)
        did_document["assertionMethod"] = []
        result = service.verify_offline(document, did_document)
        assert not result.valid and result.reason == "unknown_key"


def test_concurrent_issues_of_one_completion_give_one_certificate(clean_db) -> None:  # type: ignore[no-untyped-def]
    import threading

    completion, recipient = new_id(), new_id()
    with Session(clean_db) as warm:  # register the signing key first, so both threads race on the completion only
        service.active_key(warm)
        warm.commit()
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            with Session(clean_db, expire_on_commit=False) as own:
                barrier.wait()
                row = issue_certificate(own, completion_id=completion, recipient_id=recipient)
                own.commit()
                results.append(str(row.id))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 2 and results[0] == results[1]
    with Session(clean_db) as check:
        assert check.scalar(select(func.count()).select_from(Certificate)) == 1
