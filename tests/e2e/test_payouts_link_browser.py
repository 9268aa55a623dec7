"""Linking an e-wallet on a 360x740 phone in Indonesian: from the dashboard to the incentives page, the partner's
account inquiry, the OTP the partner sent (read from the payments simulator's outbox), and the account active."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.payouts.models import AccountStatus, PayoutAccount
from tests.payouts.conftest import PaymentsSim, payments_sim  # noqa: F401
from tests.payouts.paylink_factories import last_otp, make_person, open_at_partner, register_providers
from tests.web.test_shell import PASSWORD

pytestmark = [pytest.mark.browser]


def test_linking_an_ewallet_on_a_phone(  # type: ignore[no-untyped-def]
    browser,
    live_server: str,
    session: Session,
    payments_sim: PaymentsSim,  # noqa: F811
) -> None:
    register_providers(session, payments_sim)
    account = auth.create_account(
        session,
        email="dewi@example.org",
        password=PASSWORD,
        role=Role.applicant,
        display_name="Dewi",
        created_by=Actor.system(),
    )
    session.commit()
    person = make_person(session, account_id=account.id)
    open_at_partner(payments_sim, "ovo", number=person.phone, holder_name="Dewi", nik=person.nik)

    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server + "/masuk")
        page.get_by_label("E-mail").fill("dewi@example.org")
        page.get_by_label("Kata sandi").fill(PASSWORD)
        page.get_by_role("button", name="Masuk").click()
        page.wait_for_url("**/dasbor")
        section = page.locator("#section-incentives")
        assert "Belum ada rekening pembayaran yang ditautkan." in section.inner_text()
        section.get_by_role("link", name="Buka").click()
        page.wait_for_url("**/insentif-saya")
        page.get_by_role("link", name="Tautkan atau ganti rekening").click()
        page.wait_for_url("**/rekening-saya")
        providers = page.locator("label.choice").all()
        assert len(providers) >= 2
        for provider in providers:  # each bank or e-wallet a large target on a phone
            box = provider.bounding_box()
            assert box is not None and box["height"] >= 44
        page.get_by_label("OVO (dompet digital)").check()
        page.get_by_label("Nomor rekening, atau nomor HP dompet digital").fill(person.phone)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_role("button", name="Periksa dan kirim kode OTP").click()
        page.wait_for_url("**/otp")
        assert page.get_by_role("heading", level=1).inner_text() == "Masukkan kode OTP"
        page.get_by_label("Kode OTP").fill(last_otp(payments_sim, "ovo", person.phone))
        page.get_by_role("button", name="Konfirmasi").click()
        page.wait_for_url("**/insentif-saya?tertaut=1")
        assert "Rekening Anda sudah tertaut" in page.get_by_test_id("linked").inner_text()
        assert person.phone[-4:] in page.get_by_test_id("active-account").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
    session.expire_all()
    (row,) = session.scalars(select(PayoutAccount)).all()
    assert row.status is AccountStatus.active
