"""The program office's partner page in a real browser, in Indonesian, without JavaScript: add a ministry, issue
a key (shown once), then the ministry signs a request with it over HTTP."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.kit.clock import utcnow
from prakerja.partners import rules
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser


def test_officer_issues_a_key_the_ministry_signs_with(page, live_server: str, session: Session) -> None:  # type: ignore[no-untyped-def]
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin PMO")
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill("admin@example.org")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.goto(live_server + "/pmo")
    page.get_by_role("link", name="Mitra & kredensial API").click()
    page.wait_for_url("**/pmo/mitra")

    page.get_by_role("button", name="Tambah mitra").click()  # empty name: the browser keeps the form
    assert page.locator("#name").evaluate("e => e.validity.valueMissing")
    page.get_by_label("Nama organisasi").fill("Badan Kepegawaian Negara")
    page.get_by_label("Peran").select_option("ministry")
    page.get_by_role("button", name="Tambah mitra").click()
    page.wait_for_url("**/pmo/mitra")
    page.get_by_role("button", name="Terbitkan kredensial baru").click()
    client_code = page.get_by_test_id("client-code").inner_text()
    secret = page.get_by_test_id("secret").inner_text()
    assert len(secret) == 43
    page.get_by_role("link", name="Kembali ke daftar mitra").click()
    assert client_code in page.content() and secret not in page.content()
    page.set_viewport_size({"width": 360, "height": 740})  # on a phone: the key table scrolls, its headings stay whole
    heading = page.get_by_role("columnheader", name="Keperluan")
    line = float(heading.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 24"))
    box = heading.bounding_box()
    assert box is not None and box["height"] < 2 * line + 12  # one line of text (plus padding), not "Kepe / rluan"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    timestamp = str(int(utcnow().timestamp()))
    signature = rules.sign(secret.encode(), client_code, timestamp, "GET", "/partner/v1/ping", b"")
    response = httpx.get(
        live_server + "/partner/v1/ping",
        headers={"client_code": client_code, "timestamp": timestamp, "signature": signature},
    )
    assert response.status_code == 200 and response.json()["partner"] == "Badan Kepegawaian Negara"
