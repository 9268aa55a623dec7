"""Security: codes and links reach their owner alone. Before this change ``/pmo/pesan`` showed every verification
link, OTP and password-reset link to every officer, who could take over any account with them."""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from urllib.parse import urldefrag, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.notifications.models import Message
from tests.notifications.conftest import create_officer, csrf, run_jobs, sign_in, sign_up

DEV_MARK = "Pesan pengembangan / development message"


def _secrets(session: Session) -> dict[str, str]:
    """Every secret the queued messages carry (read before delivery erases the bodies)."""
    found: dict[str, str] = {}
    for message in session.scalars(select(Message)):
        for kind, pattern in (
            ("verify", r"/verifikasi-email/([A-Za-z0-9_-]+)"),
            ("reset", r"/atur-ulang-sandi/([A-Za-z0-9_-]+)"),
            ("otp", r"Kode OTP Kartu Prakerja: (\d{6})"),
        ):
            match = re.search(pattern, message.body)
            if match:
                found[kind] = match.group(1)
    return found


def _crawl(client: TestClient, starts: list[str]) -> dict[str, str]:
    """GET every officer page and /api/v1 resource reachable from ``starts`` by links; path -> body."""
    seen: dict[str, str] = {}
    queue = deque(starts)
    while queue and len(seen) < 300:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path, follow_redirects=True)
        seen[path] = response.text
        for href in re.findall(r'(?:href|action)="([^"]+)"', response.text):
            target = urldefrag(href.replace("&amp;", "&"))[0]
            parts = urlsplit(target)
            if parts.netloc or not parts.path.startswith(("/pmo", "/api/v1", "/dev")):
                continue
            if target not in seen:
                queue.append(target)
    return seen


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def test_no_secret_reaches_an_officer_page_an_api_response_or_a_log(
    make_client: Callable[[], TestClient], session: Session, everything_logged: pytest.LogCaptureFixture
) -> None:
    siti = make_client()
    sign_up(siti, "siti@example.org")  # e-mail verification link
    sent = siti.post(
        "/profil/telepon/kirim", data={"phone": "0812 3456 7890", "csrf_token": csrf(siti, "/profil/telepon")}
    )
    assert sent.status_code == 200  # OTP by SMS
    stranger = make_client()
    forgot = stranger.post(
        "/lupa-sandi", data={"email": "siti@example.org", "csrf_token": csrf(stranger, "/lupa-sandi")}
    )
    assert forgot.status_code == 200  # password-reset link
    secrets = _secrets(session)
    assert set(secrets) == {"verify", "reset", "otp"}
    run_jobs()

    # the owner reads them, marked as development messages
    own = siti.get("/dev/kotak-pesan")
    assert own.status_code == 200 and DEV_MARK in own.text
    assert all(secret in own.text for secret in secrets.values())

    officer = make_client()
    create_officer(session, "petugas@example.org", role=Role.pmo_admin)
    sign_in(officer, "petugas@example.org")
    pages = _crawl(officer, ["/pmo", "/pmo/pesan", "/dev/kotak-pesan"])
    routes = officer.app.openapi()["paths"]  # type: ignore[attr-defined]
    for path, operations in routes.items():
        if path.startswith("/api/v1") and "get" in operations and "{" not in path:
            pages[path] = officer.get(path).text
    assert "/pmo/pesan" in pages and len(pages) >= 5
    listing = pages["/pmo/pesan"]
    assert "Kode OTP" in listing and "Verifikasi e-mail Kartu Prakerja" in listing  # the office sees *that* they went
    assert "Atur ulang kata sandi Kartu Prakerja" in listing and "siti@example.org" not in listing
    assert "<td>E-mail</td>" in listing and "<td>email</td>" not in listing and " WIB" in listing  # in words, zoned
    leaks = [(path, kind) for path, text in pages.items() for kind, secret in secrets.items() if secret in text]
    assert leaks == []

    logged = [record.getMessage() + " " + str(vars(record)) for record in everything_logged.records]
    assert logged  # the requests above were logged
    assert [(kind, line) for line in logged for kind, secret in secrets.items() if secret in line] == []


def _links(page: str) -> set[str]:
    return set(re.findall(r"/verifikasi-email/([A-Za-z0-9_-]+)", page))


def test_a_mailbox_shows_its_owner_alone(make_client: Callable[[], TestClient], session: Session) -> None:
    siti = make_client()
    sign_up(siti, "siti@example.org")
    siti_token = _secrets(session)["verify"]
    budi = make_client()
    sign_up(budi, "budi@example.org", name="Budi Santoso")
    tokens = {m.account_id: _links(m.body) for m in session.scalars(select(Message))}
    assert len(tokens) == 2 and all(len(t) == 1 for t in tokens.values())
    run_jobs()

    siti_box, budi_box = siti.get("/dev/kotak-pesan").text, budi.get("/dev/kotak-pesan").text
    assert _links(siti_box) == {siti_token}
    assert len(_links(budi_box)) == 1 and siti_token not in budi_box
    assert _links(siti_box) | _links(budi_box) == set().union(*tokens.values())
    fresh = make_client().get("/dev/kotak-pesan")  # a browser nobody signed in on
    assert fresh.status_code == 200 and _links(fresh.text) == set()

    # a forged mailbox cookie opens nothing
    forged = make_client()
    forged.cookies.set("prakerja_dev_mailbox", "eyJ9.forged.signature")
    assert _links(forged.get("/dev/kotak-pesan").text) == set()


def test_a_browser_signed_out_still_sees_its_reset_link(
    make_client: Callable[[], TestClient], session: Session
) -> None:
    siti = make_client()
    sign_up(siti, "siti@example.org")
    siti.get("/profil")
    siti.post("/keluar", data={"csrf_token": csrf(siti, "/profil")}, follow_redirects=False)
    assert siti.get("/profil", follow_redirects=False).status_code in (302, 303, 401)  # signed out
    siti.post("/lupa-sandi", data={"email": "siti@example.org", "csrf_token": csrf(siti, "/lupa-sandi")})
    reset = _secrets(session)["reset"]
    run_jobs()
    box = siti.get("/dev/kotak-pesan").text
    assert reset in box and DEV_MARK in box
    assert reset not in make_client().get("/dev/kotak-pesan").text


def test_pages_claim_the_mailbox_and_json_answers_do_not(make_client: Callable[[], TestClient]) -> None:
    siti = make_client()
    sign_up(siti, "siti@example.org")
    siti.cookies.delete("prakerja_dev_mailbox")
    api = siti.get("/api/v1/registration/identity")  # signed in, no profile yet: 404, JSON
    assert api.status_code == 404 and "prakerja_dev_mailbox" not in api.headers.get("set-cookie", "")
    page = siti.get("/profil")
    assert page.status_code == 200 and "prakerja_dev_mailbox=" in page.headers.get("set-cookie", "")
