"""``prakerja certificate verify|revoke|rotate-key`` as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja.certificates import service
from tests.certificates.conftest import issue_certificate


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prakerja", "certificate", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


def test_verify_offline_accepts_the_credential_and_refuses_a_tampered_one(session: Session, tmp_path: Path) -> None:
    certificate = issue_certificate(session)
    session.commit()
    document = service.credential_of(certificate)
    (tmp_path / "did.json").write_text(json.dumps(service.did_document(session)))
    (tmp_path / "cert.json").write_text(json.dumps(document))
    document["credentialSubject"]["result"][0]["value"] = "100"
    (tmp_path / "tampered.json").write_text(json.dumps(document))

    ok = _run("verify", str(tmp_path / "cert.json"), "--did-document", str(tmp_path / "did.json"))
    assert ok.returncode == 0, ok.stderr
    assert "VALID" in ok.stdout and "revocation status not checked" in ok.stdout

    bad = _run("verify", str(tmp_path / "tampered.json"), "--did-document", str(tmp_path / "did.json"))
    assert bad.returncode == 1
    assert "signature_invalid" in bad.stderr and "does not match" in bad.stderr and "Traceback" not in bad.stderr

    (tmp_path / "junk.json").write_text("{not json")
    junk = _run("verify", str(tmp_path / "junk.json"), "--did-document", str(tmp_path / "did.json"))
    assert junk.returncode == 1 and "not JSON" in junk.stderr


def test_revoke_then_verify_against_this_installation(session: Session, tmp_path: Path) -> None:
    certificate = issue_certificate(session)
    session.commit()
    (tmp_path / "cert.json").write_text(json.dumps(service.credential_of(certificate)))
    assert _run("verify", str(tmp_path / "cert.json")).returncode == 0

    revoked = _run("revoke", str(certificate.id), "--reason", "Penyelesaian dibatalkan")
    assert revoked.returncode == 0, revoked.stderr
    again = _run("revoke", str(certificate.id), "--reason", "lagi")
    assert again.returncode == 2 and "certificate_revoked" in again.stderr

    result = _run("verify", str(tmp_path / "cert.json"))
    assert result.returncode == 1 and "revoked" in result.stderr


def test_rotate_key_keeps_the_old_certificate_valid(session: Session, tmp_path: Path) -> None:
    certificate = issue_certificate(session)
    session.commit()
    (tmp_path / "cert.json").write_text(json.dumps(service.credential_of(certificate)))
    rotated = _run("rotate-key")
    assert rotated.returncode == 0 and "now signs new certificates" in rotated.stdout
    session.expire_all()
    assert len(service.did_document(session)["verificationMethod"]) == 2
    assert _run("verify", str(tmp_path / "cert.json")).returncode == 0
