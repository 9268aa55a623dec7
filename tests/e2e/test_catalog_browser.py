"""The catalogue on a 360 px phone in Indonesian: a participant searches with another form of a word, filters by
province and opens a course; an officer curates a course that fails a check. No page scrolls sideways."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.catalog import service
from tests.catalog.conftest import BODY, OFFLINE, approve, create_partner, submit
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    yield context.new_page()
    context.close()


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide on a {width[1]} px screen"


def test_search_filter_course_page_and_curation(phone, live_server: str, session: Session) -> None:  # type: ignore[no-untyped-def]
    institution = create_partner(session, name="Lembaga Pelatihan Nusantara", role="institution")
    platform = create_partner(session, name="Platform Belajar Uji", role="platform")
    marketing = submit(session, institution.partner_id)
    approve(session, marketing)
    approve(session, submit(session, institution.partner_id, OFFLINE))
    service.listings.put_listing(
        session,
        course_id=marketing.id,
        platform_id=platform.partner_id,
        url="https://platform.example/kursus/strategi-pemasaran-digital-untuk-umkm-dengan-alamat-yang-sangat-panjang",
        price=950_000,
        actor=Actor.system(),
    )
    waiting = submit(session, institution.partner_id, title="Menjahit Busana Muslim untuk Pemula", interactive=False)
    create_account(session, email="kurator@example.org", role=Role.pmo_officer, name="Kurator PMO")
    session.commit()

    # a participant searches "memasarkan": the course titled "Pemasaran" is found (same stem)
    phone.goto(live_server + "/pelatihan")
    phone.get_by_label("Kata kunci pelatihan").fill("memasarkan")
    phone.get_by_role("button", name="Cari", exact=True).click()
    phone.wait_for_load_state()
    cards = phone.get_by_test_id("course-card")
    assert cards.count() == 1 and BODY["title"] in cards.first.inner_text()
    assert "Mulai Rp950.000" in cards.first.inner_text()
    no_sideways_scroll(phone)

    # filter by province: only the offline course in Bali
    phone.get_by_label("Kata kunci pelatihan").fill("")
    phone.locator("summary").click()
    phone.get_by_label("Provinsi (kelas luring)").select_option(label="Bali")
    phone.get_by_role("button", name="Cari", exact=True).click()
    phone.wait_for_load_state()
    assert phone.get_by_test_id("course-card").count() == 1
    phone.get_by_role("link", name=OFFLINE["title"]).click()
    phone.wait_for_load_state()
    assert phone.get_by_test_id("course-title").inner_text() == OFFLINE["title"]
    assert "Lembaga Pelatihan Nusantara" in phone.get_by_test_id("institution").inner_text()
    assert "Denpasar, Bali" in phone.get_by_test_id("sessions").inner_text()
    no_sideways_scroll(phone)
    phone.goto(f"{live_server}/pelatihan/{marketing.id}")
    assert "Platform Belajar Uji" in phone.get_by_test_id("offers").inner_text()
    no_sideways_scroll(phone)

    # an officer curates the waiting course: it is not interactive, so it cannot be approved
    phone.goto(live_server + "/masuk")
    phone.get_by_label("E-mail").fill("kurator@example.org")
    phone.get_by_label("Kata sandi").fill(PASSWORD)
    phone.get_by_role("button", name="Masuk").click()
    phone.wait_for_load_state()
    phone.goto(live_server + "/pmo/kurasi")
    queue = phone.get_by_test_id("curation-queue")
    assert "Tidak lolos pemeriksaan otomatis: 1" in queue.inner_text()
    phone.get_by_role("link", name=waiting.title).click()
    phone.wait_for_load_state()
    assert phone.locator('[data-code="not_interactive"]').get_attribute("class") == "flag"
    assert phone.get_by_label("Setujui").is_disabled()
    assert phone.get_by_label("Minta perbaikan").is_checked()
    assert phone.get_by_label("Pelatihan harus interaktif (ada interaksi pelatih dan peserta).").is_checked()
    no_sideways_scroll(phone)
    phone.get_by_label("Catatan untuk lembaga").fill("Tambahkan sesi tanya jawab dan tugas praktik.")
    phone.get_by_role("button", name="Simpan keputusan").click()
    phone.wait_for_load_state()
    assert phone.get_by_test_id("course-status").inner_text() == "Perlu perbaikan"
    decisions = phone.get_by_test_id("decisions").inner_text()
    assert "not_interactive" in decisions and "Tambahkan sesi tanya jawab" in decisions
    no_sideways_scroll(phone)
