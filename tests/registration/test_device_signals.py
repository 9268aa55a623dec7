"""Device and IP signals from real web journeys (issue 4, integrity flags): the shell sets a long-lived random
device cookie; sign-up, the wizard's identity step and the JSON identity submission keep it (and the IP) as blind
indexes; the integrity scan turns a device shared by several NIKs into a ``shared_device`` flag on the PMO page."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from prakerja.auth.models import AccountSignal, Role
from prakerja.kit.pii import blind_index
from prakerja.registration.models import Applicant, IntegrityFlag, Signal
from prakerja.registration.service import integrity
from prakerja.web.deps import DEVICE_COOKIE
from prakerja.web.middleware import DEVICE_COOKIE_MAX_AGE
from tests.registration.conftest import PASSWORD, csrf, person, sign_up
from tests.registration.test_api_and_bulk import body
from tests.web.test_shell import create_account, login

IDENTITY = "/api/v1/registration/identity"


def flag_kinds(session: Session) -> dict[str, int]:
    session.expire_all()
    found: dict[str, int] = {}
    for kind in session.scalars(select(IntegrityFlag.kind)):
        found[kind] = found.get(kind, 0) + 1
    return found


def pmo_flags_page(client: TestClient, session: Session) -> str:
    client.cookies.clear()
    create_account(session, email="petugas@example.org", role=Role.pmo_officer, name="Petugas")
    login(client, "petugas@example.org")
    response = client.get("/pmo/tanda")
    assert response.status_code == 200
    return response.text


def wizard_identity(client: TestClient, index: int) -> None:
    p = person(index)
    data = {"nik": str(p["nik"]), "kk": str(p["kk"]), "birth_date": str(p["birth_date"]), "sex": str(p["sex"])}
    response = client.post(
        "/profil/identitas",
        data={**data, "csrf_token": csrf(client, "/profil/identitas")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


class TestDeviceCookie:
    def test_set_once_http_only_lax_and_long_lived(self, client: TestClient) -> None:
        first = client.get("/")
        cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith(f"{DEVICE_COOKIE}="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert f"Max-Age={DEVICE_COOKIE_MAX_AGE}" in cookie and DEVICE_COOKIE_MAX_AGE >= 365 * 86400
        value = client.cookies[DEVICE_COOKIE]
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", value)
        again = client.get("/")
        assert not any(c.startswith(f"{DEVICE_COOKIE}=") for c in again.headers.get_list("set-cookie"))
        assert client.cookies[DEVICE_COOKIE] == value

    def test_a_forged_value_is_replaced(self, client: TestClient) -> None:
        client.cookies.set(DEVICE_COOKIE, "<script>")
        response = client.get("/")
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{DEVICE_COOKIE}="))
        # a new id, not the forged value echoed back
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", cookie.split(";")[0].split("=", 1)[1])

    def test_stored_only_as_a_blind_index_and_never_logged(
        self, client: TestClient, session: Session, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        assert sign_up(client).status_code == 303
        device = client.cookies[DEVICE_COOKIE]
        assert client.post(IDENTITY, json=body(1)).status_code == 202
        stored = session.scalars(select(AccountSignal.value_index).where(AccountSignal.kind == "device")).all()
        assert stored == [blind_index(device, "device")]
        used = session.scalars(select(Signal.value_index).where(Signal.kind == "device")).all()
        assert used == [blind_index(device, "device")]
        dump = session.execute(
            text(
                "SELECT count(*) FROM registration_account_signals s, registration_signals r "
                "WHERE position(convert_to(:d, 'UTF8') in s.value_index) > 0 "
                "OR position(convert_to(:d, 'UTF8') in r.value_index) > 0"
            ),
            {"d": device},
        ).scalar_one()
        assert dump == 0
        assert all(device not in record.getMessage() and device not in str(vars(record)) for record in caplog.records)


class TestSharedDeviceFlag:
    def test_accounts_from_one_browser_flagged_on_the_pmo_page(self, client: TestClient, session: Session) -> None:
        """Accounts signed up and identified in the same browser (same device cookie), each with its own NIK."""
        for n in range(1, integrity.SHARED_THRESHOLD + 1):
            assert sign_up(client, f"orang{n}@example.org", f"Orang {chr(64 + n)}").status_code == 303
            wizard_identity(client, n)
        integrity.scan(session)
        session.commit()
        assert flag_kinds(session)["shared_device"] == integrity.SHARED_THRESHOLD
        nik_indexes = session.scalars(select(Applicant.nik_index)).all()
        assert len(set(nik_indexes)) == integrity.SHARED_THRESHOLD  # different people, one browser
        html = pmo_flags_page(client, session)
        assert html.count("shared_device") == integrity.SHARED_THRESHOLD

    def test_below_the_threshold_nothing_is_flagged(self, client: TestClient, session: Session) -> None:
        for n in range(1, integrity.SHARED_THRESHOLD):
            assert sign_up(client, f"orang{n}@example.org", f"Orang {chr(64 + n)}").status_code == 303
            assert client.post(IDENTITY, json=body(n)).status_code == 202
        integrity.scan(session)
        session.commit()
        assert "shared_device" not in flag_kinds(session)

    def test_sign_up_device_counts_when_the_identity_comes_from_elsewhere(
        self,
        app,
        session: Session,  # type: ignore[no-untyped-def]
    ) -> None:
        """Signed up in one browser, identity sent by the JSON API from another client: the sign-up signal still
        ties the applicants to the first browser."""
        browser = TestClient(app, base_url="http://testserver")
        sessions = []
        for n in range(1, integrity.SHARED_THRESHOLD + 1):
            assert sign_up(browser, f"orang{n}@example.org", f"Orang {chr(64 + n)}").status_code == 303
            sessions.append(browser.cookies["prakerja_session"])
        for n, token in enumerate(sessions, start=1):
            elsewhere = TestClient(app, base_url="http://testserver", cookies={"prakerja_session": token})
            assert elsewhere.post(IDENTITY, json=body(n)).status_code == 202
            assert elsewhere.cookies[DEVICE_COOKIE] != browser.cookies[DEVICE_COOKIE]
        integrity.scan(session)
        session.commit()
        assert flag_kinds(session)["shared_device"] == integrity.SHARED_THRESHOLD

    def test_a_profile_started_in_the_wizard_records_the_api_submission_too(
        self, client: TestClient, session: Session
    ) -> None:
        """The general path (a profile exists, so the one-statement insert does not apply) keeps the signals."""
        assert sign_up(client).status_code == 303
        wizard_identity(client, 1)
        client.cookies.delete(DEVICE_COOKIE)
        client.get("/")  # a new device cookie, as from another browser
        response = client.post(IDENTITY, json=body(1))
        assert response.status_code == 202 and response.json()["identity_status"] == "pending"
        devices = session.scalars(select(Signal.value_index).where(Signal.kind == "device")).all()
        assert len(set(devices)) == 2
        checks = session.execute(text("SELECT count(*) FROM registration_identity_checks")).scalar_one()
        assert checks == 1


class TestThroughRealHttp:
    def test_shared_device_flag_from_http_journeys(self, live_server: str, session: Session) -> None:
        """Uvicorn on a loopback port, an HTTP client with one cookie jar: sign-up forms and JSON submissions."""
        with httpx.Client(base_url=live_server, timeout=10) as browser:
            for n in range(1, integrity.SHARED_THRESHOLD + 1):
                page = browser.get("/daftar")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
                assert token is not None
                form = {"email": f"orang{n}@example.org", "name": f"Orang {chr(64 + n)}", "password": PASSWORD}
                signed_up = browser.post("/daftar", data={**form, "csrf_token": token.group(1)})
                assert signed_up.status_code == 303
                credentials = {"email": form["email"], "password": PASSWORD, "csrf_token": token.group(1)}
                assert browser.post("/masuk", data=credentials).status_code == 303
                assert browser.post(IDENTITY, json=body(n)).status_code == 202
            device = browser.cookies[DEVICE_COOKIE]
        integrity.scan(session)
        session.commit()
        flagged = session.scalars(select(IntegrityFlag).where(IntegrityFlag.kind == "shared_device")).all()
        assert len(flagged) == integrity.SHARED_THRESHOLD
        assert all(f.detail == {"people": integrity.SHARED_THRESHOLD, "threshold": integrity.SHARED_THRESHOLD}
                   for f in flagged)  # fmt: skip
        counted = session.scalars(select(Signal).where(Signal.value_index == blind_index(device, "device"))).all()
        assert len(counted) == integrity.SHARED_THRESHOLD
        with httpx.Client(base_url=live_server, timeout=10) as officer:
            create_account(session, email="petugas@example.org", role=Role.pmo_officer, name="Petugas")
            page = officer.get("/masuk")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            officer.post(
                "/masuk", data={"email": "petugas@example.org", "password": PASSWORD, "csrf_token": token.group(1)}
            )
            html = officer.get("/pmo/tanda").text
        assert html.count("shared_device") == integrity.SHARED_THRESHOLD
