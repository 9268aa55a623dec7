"""The participant's training balance in a real browser, in Indonesian, on a 360 px phone (journeys issue point 9:
no horizontal overflow)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from prakerja.kit.ids import new_id
from prakerja.ledger import service
from tests.ledger.conftest import OFFICER, SCHEME, YEAR, allocate
from tests.registration.factories import create_applicant
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    """The narrowest common phone (the shared fixture's is 390 px)."""
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740}, is_mobile=True)
    yield context.new_page()
    context.close()


def test_balance_page_in_indonesian(page, live_server: str, session: Session) -> None:  # type: ignore[no-untyped-def]
    create_account(session)
    account_id = session.execute(text("SELECT id FROM auth_accounts")).scalar_one()
    participant = create_applicant(session, account_id=account_id).applicant_id  # wallets belong to the person
    allocate(session)
    service.fund_wallet(
        session, transfer_id=new_id(), participant_id=participant, scheme=SCHEME, year=YEAR, actor=OFFICER
    )
    from datetime import timedelta

    service.authorise_purchase(
        session,
        transfer_id=new_id(),
        participant_id=participant,
        institution_id=new_id(),
        amount=750_000,
        purchase_ref="kursus-1",
        timeout=timedelta(hours=1),
        actor=OFFICER,
    )
    session.commit()

    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill("siti@example.org")
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url("**/dasbor")
    card = page.locator("#section-card")
    assert "Saldo pelatihan: Rp2.750.000" in card.inner_text()
    card.get_by_role("link", name="Buka").click()
    page.wait_for_url("**/dasbor/saldo")
    assert page.get_attribute("html", "lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text() == "Saldo pelatihan"
    assert page.get_by_test_id("available").inner_text() == "Rp2.750.000"
    assert page.get_by_test_id("pending").inner_text() == "Rp750.000"
    table = page.get_by_role("table").inner_text()
    assert "Saldo pelatihan diterima" in table and "Pembelian menunggu konfirmasi" in table
    for path in ("/dasbor/saldo", "/dasbor"):
        page.goto(live_server + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width} px wide at 360 px"
