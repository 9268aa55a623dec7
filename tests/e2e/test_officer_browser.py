"""The program office's journey on a laptop, in Indonesian and in English: a wave created with a mistake keeps
what was typed and names the wrong field; opening and closing ask first and say what will happen; the budget gets
more money on its own page, with the reason the audit log keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.ledger import service as ledger
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser

WORDS = {
    "id": {
        "sign_in": "Masuk",
        "password": "Kata sandi",
        "menu_waves": "Gelombang, kuota & undian",
        "title": "Judul",
        "opens": "Dibuka pada (WIB, waktu Jakarta)",
        "closes": "Ditutup pada (WIB, waktu Jakarta)",
        "quota": "Kuota total",
        "create": "Buat gelombang",
        "closes_error": "Waktu tutup harus sesudah waktu buka.",
        "open": "Buka gelombang",
        "confirm_open": "Ya, buka gelombang",
        "open_state": "Dibuka untuk pendaftaran",
        "close": "Tutup gelombang dan periksa kelayakan",
        "confirm_close": "Ya, tutup gelombang",
        "closed_state": "Ditutup, kelayakan sudah diperiksa",
        "menu_budget": "Anggaran pelatihan",
        "amount": "Jumlah (rupiah)",
        "reason": "Alasan",
        "add": "Tambahkan ke anggaran",
        "reason_error": "Tuliskan alasannya",
        "done": "Anggaran ditambahkan.",
    },
    "en": {
        "sign_in": "Sign in",
        "password": "Password",
        "menu_waves": "Waves, quotas & lottery",
        "title": "Title",
        "opens": "Opens at (WIB, Jakarta time)",
        "closes": "Closes at (WIB, Jakarta time)",
        "quota": "Total quota",
        "create": "Create wave",
        "closes_error": "The closing time must be after the opening time.",
        "open": "Open the wave",
        "confirm_open": "Yes, open the wave",
        "open_state": "Open for joining",
        "close": "Close the wave and check eligibility",
        "confirm_close": "Yes, close the wave",
        "closed_state": "Closed, eligibility checked",
        "menu_budget": "Training budget",
        "amount": "Amount (rupiah)",
        "reason": "Reason",
        "add": "Add to the budget",
        "reason_error": "Give the reason",
        "done": "Budget added.",
    },
}


@pytest.fixture
def laptop(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport={"width": 1366, "height": 768})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_officer_journey(laptop, live_server: str, session: Session, lang: str) -> None:  # type: ignore[no-untyped-def]
    words = WORDS[lang]
    page = laptop
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin PMO")
    if lang == "en":
        page.goto(live_server + "/bahasa/en?next=/masuk")
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill("admin@example.org")
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_role("button", name=words["sign_in"]).click()
    page.wait_for_url("**/pmo")
    page.get_by_role("link", name=words["menu_waves"]).click()
    page.wait_for_load_state()

    # a wave whose close date precedes its open date: refused, nothing typed is lost, the field is named
    page.get_by_label(words["title"]).fill("Gelombang Uji Petugas")
    page.get_by_label("Skema" if lang == "id" else "Scheme").select_option("2023-normal")
    page.get_by_label(words["opens"]).fill("2030-03-10T09:00")
    page.get_by_label(words["closes"]).fill("2030-03-01T17:00")
    page.get_by_label(words["quota"]).fill("25")
    page.get_by_role("button", name=words["create"]).click()
    page.wait_for_load_state()
    assert page.locator("#closes_at-error").inner_text() == words["closes_error"]
    assert page.locator("#closes_at").get_attribute("aria-invalid") == "true"
    assert page.locator("#title").input_value() == "Gelombang Uji Petugas"
    assert page.locator("#opens_at").input_value() == "2030-03-10T09:00"
    assert page.locator("#closes_at").input_value() == "2030-03-01T17:00"
    assert page.locator("#total_quota").input_value() == "25"
    assert page.locator("#scheme").input_value() == "2023-normal"

    # fixed: the wave is created, its times carry their zone
    page.get_by_label(words["closes"]).fill("2030-03-20T17:00")
    page.get_by_role("button", name=words["create"]).click()
    page.wait_for_url("**/pmo/gelombang/*")
    assert page.get_by_test_id("opens-at").inner_text() == "2030-03-10 09:00 WIB"

    # opening asks first and says what will happen
    page.get_by_role("link", name=words["open"]).click()
    page.wait_for_load_state()
    assert "2030-03-10 09:00 WIB" in page.get_by_test_id("confirm-text").inner_text()
    page.get_by_role("button", name=words["confirm_open"]).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("wave-state").inner_text() == words["open_state"]

    # closing too
    page.get_by_role("link", name=words["close"]).click()
    page.wait_for_load_state()
    page.get_by_role("button", name=words["confirm_close"]).click()
    page.wait_for_load_state()
    assert page.get_by_test_id("wave-state").inner_text() == words["closed_state"]

    # the budget on its own page: a missing reason is refused with the amount kept, then the money arrives
    page.goto(live_server + "/pmo")
    page.get_by_role("link", name=words["menu_budget"]).click()
    page.wait_for_load_state()
    page.locator("#scheme").select_option("2023-normal")
    page.get_by_label(words["amount"]).fill("350.000.000")
    page.get_by_role("button", name=words["add"]).click()
    page.wait_for_load_state()
    assert page.locator("#reason-error").inner_text().startswith(words["reason_error"])
    assert page.locator("#amount").input_value() == "350.000.000"
    page.get_by_label(words["reason"]).fill("DIPA 2030 revisi 1")
    page.get_by_role("button", name=words["add"]).click()
    page.wait_for_url("**/pmo/anggaran?done=*")
    assert page.get_by_test_id("budget-done").inner_text().startswith(words["done"])
    year = clock.today_jakarta().year
    assert "350.000.000" in page.get_by_test_id(f"budget-2023-normal-{year}").inner_text()
    page.reload()  # the same form again is a new allocation only when submitted; a reload moves nothing
    session.expire_all()
    assert ledger.budget_available(session, scheme="2023-normal", year=year) == 350_000_000
    reasons = session.scalars(select(AuditEntry.reason).where(AuditEntry.action == "ledger.budget_allocated")).all()
    assert reasons == ["DIPA 2030 revisi 1"]
