"""The public certificate page on a small phone (360x740): readable, no horizontal scrolling, QR code shown."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.certificates.conftest import HOLDER, issue_certificate

pytestmark = pytest.mark.browser


def test_certificate_page_fits_a_small_phone(browser, live_server: str, session: Session) -> None:  # type: ignore[no-untyped-def]
    certificate = issue_certificate(
        session, course_title="Pengelolaan Keuangan dan Pembukuan Digital untuk Usaha Mikro, Kecil dan Menengah"
    )
    session.commit()
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/sertifikat/{certificate.id}")
        assert page.get_attribute("html", "lang") == "id"
        assert page.get_by_role("heading", level=1).inner_text() == "Sertifikat pelatihan Kartu Prakerja"
        assert page.get_by_test_id("holder").inner_text() == HOLDER
        assert page.get_by_test_id("status").inner_text() == "Sertifikat ini sah."
        qr = page.get_by_role("img", name="Kode QR ke halaman ini")
        qr.wait_for()
        assert page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        widest = page.evaluate(
            "Math.max(...Array.from(document.querySelectorAll('main *')).map(e => e.getBoundingClientRect().right))"
        )
        assert widest <= 360
    finally:
        context.close()
