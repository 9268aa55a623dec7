"""The platform simulator's checkout on a 360x740 phone in Indonesian, against the real program: the participant
checks their card, pays with Kartu Prakerja, reads the SMS code the program sent in their development mailbox (the
development sender, after the delivery job ran as the worker would run it), mistypes it (told so), types it and sees
the voucher; the purchase is confirmed in the program's database with that voucher. No page scrolls sideways."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.kit.clock import clock
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Message, MessageStatus
from prakerja.simulators import demo_marketplace
from prakerja.simulators.partner_client import Credentials, SimClock
from prakerja.simulators.platform import MESSAGES
from prakerja.training.models import Purchase, PurchaseStatus
from tests.partners.conftest import Partner, create_partner
from tests.training.conftest import make_course
from tests.training.test_pages import participant_with_login
from tests.web.test_shell import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("frozen_clock")]

TITLE = "Pengelolaan Keuangan dan Pembukuan Digital untuk Usaha Mikro, Kecil dan Menengah"
PRICE = 950_000
WIDTH = 360


@pytest.fixture
def seller(session: Session) -> Partner:
    return create_partner(session, name="Toko Belajar Ponsel", role="platform")


@pytest.fixture
def shop(live_server: str, session: Session, seller: Partner) -> Iterator[tuple[str, str]]:
    """The platform simulator (in a thread, signing as ``seller``) listing one course; yields (its URL, course id)."""
    institution = create_partner(session, name="Lembaga Pelatihan Ponsel", role="institution")
    course = make_course(session, institution, seller, price=PRICE, title=TITLE)
    following = SimClock()
    following.set(now=clock.now())  # the program's clock is frozen: the simulator signs with the same time
    running = demo_marketplace.start_platform(
        api_url=live_server,
        credentials=Credentials(seller.client_code, seller.secret),
        listings=((str(course.id), PRICE, TITLE),),
        clock=following,
    )
    yield running.url, str(course.id)
    running.stop()


def fits(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the phone: no sideways scrolling, no element past the right edge."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px"
    widest = page.evaluate(
        "Math.max(...Array.from(document.querySelectorAll('body *')).map(e => e.getBoundingClientRect().right))"
    )
    assert widest <= WIDTH, f"{page.url}: an element reaches {widest} px"


def deliver_messages(session: Session, account_id: uuid.UUID) -> None:
    """Run the participant's queued ``notifications.deliver`` jobs as ``prakerja worker`` would."""
    session.expire_all()
    queued = session.scalars(
        select(Message.id).where(Message.account_id == account_id, Message.status == MessageStatus.queued)
    ).all()
    assert queued, "the program sent the participant no message"
    for message_id in queued:
        notifications.deliver(session, message_id)
    session.commit()


def test_paying_with_the_card_and_the_sms_code_on_a_phone(  # type: ignore[no-untyped-def]
    browser, live_server: str, session: Session, shop: tuple[str, str]
) -> None:
    shop_url, course_id = shop
    dewi = participant_with_login(session)
    context = browser.new_context(locale="id-ID", viewport={"width": WIDTH, "height": 740})
    page = context.new_page()
    try:
        page.goto(shop_url + "/")
        assert page.get_attribute("html", "lang") == "id"
        fits(page)
        page.get_by_role("link", name=TITLE).click()
        page.wait_for_url(f"**/kursus/{course_id}")
        fits(page)
        page.get_by_label("Akun toko (e-mail)").fill("dewi@example.org")
        page.get_by_label("Nomor Kartu Prakerja (16 digit)").fill(dewi.card_number)
        page.get_by_role("button", name="Periksa kartu").click()
        page.wait_for_url("**/pesanan/ORD-*")
        order_id = page.url.rsplit("/", 1)[1]
        assert f"**** **** **** {dewi.card_number[-4:]}" in page.locator("main").inner_text()
        fits(page)
        page.get_by_role("button", name="Bayar dengan Kartu Prakerja").click()
        page.get_by_label("Kode OTP").wait_for()
        fits(page)

        # the participant's phone: the program's SMS, in their development mailbox on the program
        deliver_messages(session, dewi.account_id)
        phone = context.new_page()
        phone.goto(live_server + "/masuk")
        phone.get_by_label("E-mail").fill("dewi@example.org")
        phone.get_by_label("Kata sandi").fill(PASSWORD)
        phone.get_by_role("button", name="Masuk").click()
        phone.wait_for_url("**/dasbor")
        phone.goto(live_server + "/dev/kotak-pesan")
        sms = phone.locator("article[data-channel=sms] .message-body").first.inner_text()
        code = re.search(r"Kode OTP Kartu Prakerja: (\d{6})", sms)
        assert code is not None, sms
        phone.close()

        page.get_by_label("Kode OTP").fill("000000" if code.group(1) != "000000" else "111111")
        page.get_by_role("button", name="Konfirmasi").click()
        assert page.get_by_role("alert").inner_text() == MESSAGES["otp_invalid"]
        fits(page)
        page.get_by_label("Kode OTP").fill(code.group(1))
        page.get_by_role("button", name="Konfirmasi").click()
        page.get_by_text("Pembayaran berhasil. Kode voucher Anda:").wait_for()
        voucher = page.locator(".voucher").inner_text()
        assert re.fullmatch(r"[A-Z2-9]{12}", voucher)
        assert "Sisa saldo: Rp2.550.000" in page.locator("main").inner_text()
        fits(page)
    finally:
        context.close()

    session.expire_all()
    purchase = session.scalars(select(Purchase).where(Purchase.platform_order_id == order_id)).one()
    assert (purchase.status, purchase.voucher_code) == (PurchaseStatus.confirmed, voucher)
    assert (purchase.account_id, purchase.course_id, purchase.amount) == (dewi.account_id, uuid.UUID(course_id), PRICE)
