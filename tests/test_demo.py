"""`prakerja demo` seeds one consistent program: the demo applicant is verified, wins the demo wave through
the priority tier, gets a card and a wallet funded by the announcement, and has made two purchases."""

from __future__ import annotations

import io
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.demo import DEMO_ACCOUNTS, prepare
from prakerja.ledger import service as ledger
from prakerja.recipients import service as recipients
from prakerja.registration import service as registration
from prakerja.simulators import dukcapil
from tests.conftest import free_port
from tests.test_stopping import _port_closed, _start, _stop


def test_demo_is_consistent_and_idempotent(clean_db: Engine) -> None:
    logins = prepare()
    assert prepare() == logins  # a second run changes nothing
    assert {role for role, _, _ in logins} == {role.value for role, _, _ in DEMO_ACCOUNTS}
    with Session(clean_db) as session:
        account = auth.authenticate(session, email=DEMO_ACCOUNTS[0][1], password=logins[0][2])
        person = registration.applicant_for_account(session, account.id)
        assert person is not None and person.identity_verified
        recipient = recipients.recipient_by_account(session, account.id)
        assert recipient is not None and len(recipient.card_number) == 16
        wallet = ledger.wallet(session, person.applicant_id)
        assert wallet is not None
        assert (wallet.balance, wallet.available) == (3_500_000 - 1_200_000, 3_500_000 - 1_200_000 - 450_000)
        assert ledger.check(session).ok
        assert audit.verify(session).ok
        session.rollback()


# --- a new applicant on a real `prakerja demo` ------------------------------------------------------------------

NEWCOMER = 2
"""A living adult of the demo's civil-registry population who is not the demo applicant."""


def _csrf(http: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', http.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def _post(http: httpx.Client, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    """A form sent from its page (the phone step's two forms are on /profil/telepon)."""
    page = path.rsplit("/", 1)[0] if path.endswith(("/kirim", "/kode")) else path
    return http.post(path, data={**data, "csrf_token": _csrf(http, page)}, **kwargs)  # type: ignore[arg-type]


def _until(what: str, find: Callable[[], str | None], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.3)


def _in_mailbox(http: httpx.Client, pattern: str) -> Callable[[], str | None]:
    def find() -> str | None:
        match = re.search(pattern, http.get("/dev/kotak-pesan").text)
        return match.group(1) if match else None

    return find


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), (210, 190, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_new_applicant_is_verified_and_joins_on_the_demo(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    """Journeys issue: the demo runs the civil-registry simulator on its population, so a new applicant's identity
    check finishes and they can join the open wave; one SIGTERM stops the demo and the simulator."""
    registry = free_port()
    proc, port = _start(
        ["demo"],
        database_url,
        env={
            "PRAKERJA_HOME": str(tmp_path / "home"),
            "PRAKERJA_DUKCAPIL_URL": f"http://127.0.0.1:{registry}",
            "PRAKERJA_LOG_LEVEL": "WARNING",  # the pipe is read at the end: it must not fill up meanwhile
        },
    )
    person = dukcapil.person(NEWCOMER)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            signed_up = _post(
                http, "/daftar", {"email": "yohanes@example.org", "name": "Yohanes", "password": "kata-sandi-rahasia"}
            )
            assert signed_up.status_code == 303, signed_up.text[:500]
            assert "/dev/kotak-pesan" in http.get(signed_up.headers["location"]).text  # where the mail is
            signed_in = _post(http, "/masuk", {"email": "yohanes@example.org", "password": "kata-sandi-rahasia"})
            assert signed_in.status_code == 303, signed_in.text[:500]  # sign-up does not sign in (security issue)
            link = _until("the verification e-mail", _in_mailbox(http, r"(/verifikasi-email/[^\s\"<]+)"))
            assert http.get(link).status_code in (200, 303)
            assert 'data-testid="email-verified"' in http.get("/profil").text

            steps: list[tuple[str, dict[str, str]]] = [
                (
                    "/profil/identitas",
                    {
                        "nik": person["nik"],
                        "kk": person["kk"],
                        "birth_date": person["birth_date"],
                        "sex": person["sex"],
                    },
                ),
                (
                    "/profil/nama",
                    {"full_name": person["full_name"], "mother_maiden_name": person["mother_maiden_name"]},
                ),
                (
                    "/profil/alamat",
                    {
                        "ktp_address": "Jl. Kenanga No. 7",
                        "ktp_district": f"{person['regency']}01",
                        "domicile_same": "ya",
                    },
                ),
                (
                    "/profil/latar",
                    {
                        "education": "sma",
                        "job_status": "job_seeker",
                        "has_disability": "tidak",
                        "former_migrant_worker": "tidak",
                        "is_citizen": "ya",
                        "declared_student": "tidak",
                    },
                ),
            ]
            for path, data in steps:
                saved = _post(http, path, {k: str(v) for k, v in data.items()})
                assert saved.status_code == 303, (path, saved.text[:800])
            assert _post(http, "/profil/telepon/kirim", {"phone": "0812 3456 7890"}).status_code == 303
            code = _until("the SMS code", _in_mailbox(http, r"\b(\d{6})\b"))
            assert _post(http, "/profil/telepon/kode", {"code": code}).status_code == 303
            photo = {"ktp_photo": ("ktp.png", _png(), "image/png")}
            assert _post(http, "/profil/foto", {}, files=photo).status_code == 303
            assert _post(http, "/profil/pernyataan", {"declaration": "ya", "consent": "ya"}).status_code == 303

            def verified() -> str | None:
                status = re.search(r'data-testid="identity-status" data-status="(\w+)"', http.get("/profil").text)
                assert status is not None and status.group(1) in ("pending", "matched"), status
                return "yes" if status.group(1) == "matched" else None

            _until("the identity check", verified)
            wave = re.search(r'action="/gelombang/([0-9a-f-]{36})/gabung"', http.get("/gelombang").text)
            assert wave is not None
            joined = http.post(
                f"/gelombang/{wave.group(1)}/gabung",
                data={"consent": "yes", "csrf_token": _csrf(http, "/gelombang")},
            )
            assert joined.status_code == 303, joined.text[:800]
            assert joined.headers["location"].endswith("/tanda-terima")
            assert http.get(joined.headers["location"]).status_code == 200
        stderr = _stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    assert _port_closed(port) and _port_closed(registry, "/_health")
