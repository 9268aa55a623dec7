"""The payment partner's portal on a 360 x 740 phone in Indonesian: a bank's staff member signs in, lands on the
partner page, follows its link to the payouts portal, opens a batch and sees masked account numbers only, and sees
nothing of the e-wallet partner's payouts. No page scrolls sideways."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.payouts.test_portal_partner import World
from tests.web.test_shell import PASSWORD

pytestmark = pytest.mark.browser


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide on a {width[1]} px screen"


def test_bank_staff_reads_its_payouts_on_a_phone(browser, live_server: str, session: Session) -> None:  # type: ignore[no-untyped-def]
    world = World(session)
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server + "/masuk")
        page.get_by_label("E-mail").fill("staf@bni.example")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/portal/mitra")
        page.locator("main a[href='/portal/mitra/pembayaran']").click()
        page.wait_for_url("**/portal/mitra/pembayaran")
        assert page.locator("main h1").inner_text() == "Portal mitra pembayaran"
        assert "Bank Negara Uji" in page.get_by_test_id("organisation").inner_text()
        assert "Selisih terbuka: 1" in page.get_by_test_id("open-differences").inner_text()
        differences = page.get_by_test_id("differences").inner_text()
        assert "Jumlah berbeda" in differences and world.paid.end_to_end_id in differences
        results = page.get_by_test_id("results").inner_text()
        assert "Ditolak" in results and "WIB" in results and world.theirs.end_to_end_id not in results
        assert "BNI-20260302" in page.get_by_test_id("statements").inner_text()
        assert world.ovo_batch.message_id not in page.locator("main").inner_text()
        no_sideways_scroll(page)

        page.get_by_role("link", name=world.bni_batch.message_id).click()
        page.wait_for_load_state()
        instructions = page.get_by_test_id("instructions").inner_text()
        assert "******7890" in instructions and "1234567890" not in instructions
        assert page.get_by_test_id("control-sum").inner_text() == "Rp700.000"
        no_sideways_scroll(page)

        response = page.goto(f"{live_server}/portal/mitra/pembayaran/batch/{world.ovo_batch.id}")
        assert response is not None and response.status == 404
    finally:
        context.close()
