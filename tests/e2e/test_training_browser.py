"""The participant's trainings on a 360 px phone in Indonesian: the voucher and session codes, what is missing before
the incentive, and rating a finished training."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.partners.conftest import create_partner
from tests.training.conftest import make_course
from tests.training.test_pages import participant_with_login
from tests.training.test_service import buy, complete_self_paced, confirm
from tests.web.test_shell import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("frozen_clock")]


def test_rating_a_finished_training_on_a_phone(  # type: ignore[no-untyped-def]
    browser, live_server: str, session: Session
) -> None:
    institution = create_partner(session, name="Lembaga Pelatihan Uji", role="institution")
    platform = create_partner(session, name="Platform Belajar Uji", role="platform")
    course = make_course(session, institution, platform, format="self_paced", sessions=[], title="Excel Mandiri")
    dewi = participant_with_login(session)
    purchase_id = buy(session, platform, dewi, course)
    voucher = confirm(session, platform, dewi, purchase_id)
    complete_self_paced(session, institution, course, purchase_id, voucher)

    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server + "/masuk")
        page.get_by_label("E-mail").fill("dewi@example.org")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/dasbor")
        assert "Masih diperlukan sebelum insentif" in page.locator("#section-trainings").inner_text()
        page.locator("#section-trainings").get_by_role("link", name="Buka").click()
        page.wait_for_url("**/pelatihan-saya")
        assert page.get_by_role("heading", level=1).inner_text() == "Pelatihan saya"
        assert page.get_by_test_id("voucher").inner_text() == voucher
        assert "Rating bintang" in page.get_by_test_id("missing").inner_text()
        page.get_by_role("link", name="Beri penilaian pelatihan ini").click()
        stars = page.locator("label.choice").all()
        assert len(stars) == 5
        for star in stars:  # each star a large target on a phone, its radio button beside its label
            box, radio = star.bounding_box(), star.locator("input").bounding_box()
            assert box is not None and radio is not None and box["height"] >= 44 and radio["width"] >= 24
        page.get_by_label("4 ★").check()
        page.get_by_label("Ulasan Anda").fill("Contohnya banyak dan mudah diikuti.")
        page.get_by_role("button", name="Kirim penilaian").click()
        page.wait_for_url("**/pelatihan-saya")
        assert page.get_by_test_id("missing").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
