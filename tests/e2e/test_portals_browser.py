"""The partner portals on a 360 px phone in Indonesian, with the demo's logins and organisations: the demo
institution submits a course and sees it in curation, an officer approves it, the institution sees it approved,
and the demo platform lists it; after purchases, attendance and completions made through the marketplace's service, the
institution sees its participants, attendance, completions and statement, and the platform its sales and
commission. No page scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.catalog.models import Course, Listing
from prakerja.catalog.service.demo import INSTITUTIONS, PLATFORMS, seed_demo_catalog
from prakerja.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from prakerja.kit.clock import clock
from prakerja.partners.models import PartnerOrganisation
from prakerja.portals.service.demo import seed as seed_portals
from tests.portals.test_training import marketplace
from tests.training.conftest import Partner

pytestmark = pytest.mark.browser

TITLE = "Fotografi Produk untuk Toko Daring"


def no_sideways_scroll(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide on a {width[1]} px screen"


def demo_email(role: str) -> str:
    return next(email for r, email, _ in DEMO_ACCOUNTS if r.value == role)


@pytest.fixture
def demo(session: Session) -> None:
    for role, email, name in DEMO_ACCOUNTS:
        auth.create_account(
            session, email=email, password=DEMO_PASSWORD, role=role, display_name=name, created_by=Actor.system()
        )
    catalog = seed_demo_catalog(session)
    seed_portals(
        session,
        institution_id=catalog.institutions[INSTITUTIONS[0]],
        platform_id=catalog.platforms[PLATFORMS[0]],
        institution_email=demo_email("institution"),
        platform_email=demo_email("platform"),
    )
    session.commit()


def demo_partner(session: Session, name: str) -> Partner:
    """A demo organisation as the marketplace's test helpers take it (its id is all they use)."""
    found = session.scalars(select(PartnerOrganisation.id).where(PartnerOrganisation.name == name)).one()
    return Partner(found, "", None, "")


def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport={"width": 360, "height": 740})
    return context, context.new_page()


def sign_in(page, live_server: str, role: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill(demo_email(role))
    page.get_by_label("Kata sandi").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()


def test_institution_submits_officer_approves_platform_lists(  # type: ignore[no-untyped-def]
    browser, live_server: str, session: Session, demo: None
) -> None:
    # the demo institution lands on its own portal
    context, page = phone(browser)
    sign_in(page, live_server, "institution")
    assert page.url == live_server + "/portal/lembaga"
    assert INSTITUTIONS[0] in page.get_by_test_id("organisation").inner_text()
    assert "Belum ada data" in page.get_by_test_id("participants").inner_text()
    no_sideways_scroll(page)

    # it submits a course with five live sessions
    page.get_by_role("link", name="Ajukan pelatihan baru").click()
    page.wait_for_load_state()
    page.get_by_label("Judul pelatihan").fill(TITLE)
    page.get_by_label("Kategori").select_option(label="Pemasaran")
    page.get_by_label("Standar kompetensi (SKKNI atau KKNI)").fill("SKKNI Fotografi: memotret produk")
    page.get_by_label("Silabus").fill("Cahaya, sudut, latar, penyuntingan foto produk dan unggah ke toko daring.")
    page.get_by_label("Bentuk pelatihan").select_option("webinar")
    page.get_by_label("Jumlah jam").fill("15")
    page.get_by_label("Ukuran kelas terbesar (peserta)").fill("50")
    page.get_by_label("Harga untuk program (rupiah)").fill("800.000")
    page.get_by_label("Harga di luar program (rupiah, 0 jika gratis)").fill("1000000")
    page.get_by_label("Pelatih dan peserta berinteraksi (tanya jawab, umpan balik, tugas)").check()
    page.get_by_label("Nama pelatih 1", exact=True).fill("Pelatih Foto")
    page.get_by_label("Kualifikasi 1", exact=True).fill("Fotografer komersial 8 tahun")
    first = clock.today_jakarta().date() + timedelta(days=20)
    for n in range(5):
        page.get_by_label(f"Tanggal {n + 1}", exact=True).fill((first + timedelta(days=n)).isoformat())
        page.get_by_label(f"Jam mulai {n + 1}", exact=True).fill("09:00")
        page.get_by_label(f"Durasi (menit) {n + 1}", exact=True).fill("180")
    no_sideways_scroll(page)
    page.get_by_role("button", name="Ajukan ke kurasi").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("course-status").inner_text() == "Dalam kurasi"
    page.goto(live_server + "/portal/lembaga")
    assert TITLE in page.get_by_test_id("institution-courses").inner_text()
    no_sideways_scroll(page)

    # an officer approves it
    officer_context, officer = phone(browser)
    sign_in(officer, live_server, "pmo_officer")
    officer.goto(live_server + "/pmo/kurasi")
    officer.get_by_role("link", name=TITLE).click()
    officer.wait_for_load_state()
    officer.get_by_label("Setujui").check()
    officer.get_by_role("button", name="Simpan keputusan").click()
    officer.wait_for_load_state()
    assert officer.get_by_test_id("course-status").inner_text() == "Disetujui"
    officer.goto(live_server + "/pmo/pelatihan/penyelesaian")  # the partners' long names in its picker
    assert officer.get_by_label("Mitra").locator("option").count() == 4
    no_sideways_scroll(officer)
    officer_context.close()

    # the institution sees it approved
    page.reload()
    card = page.get_by_test_id("institution-course").filter(has_text=TITLE)
    assert card.get_by_test_id("course-status").inner_text() == "Disetujui"
    context.close()

    # the demo platform lists it
    context, page = phone(browser)
    sign_in(page, live_server, "platform")
    assert page.url == live_server + "/portal/platform"
    assert PLATFORMS[0] in page.get_by_test_id("organisation").inner_text()
    no_sideways_scroll(page)
    page.get_by_label("Pelatihan yang disetujui").select_option(label=f"{TITLE} · {INSTITUTIONS[0]} · Rp800.000")
    page.get_by_label("Halaman pelatihan di platform Anda").fill("https://platform-belajar.example/kursus/fotografi")
    page.get_by_label("Harga (rupiah, tidak melebihi harga hasil kurasi)").fill("750000")
    page.get_by_role("button", name="Simpan penawaran").click()
    page.wait_for_load_state()
    listing = page.get_by_test_id("listing").filter(has_text=TITLE)
    assert "Rp750.000" in listing.inner_text()
    # the demo platform and the demo institution share an owner: the listing is flagged
    assert listing.get_by_test_id("conflict").is_visible()
    no_sideways_scroll(page)
    context.close()

    course = session.scalars(select(Course).where(Course.title == TITLE)).one()
    assert session.scalars(select(Listing).where(Listing.course_id == course.id)).one().price == 750_000


def test_institution_and_platform_see_real_rows_after_purchase_attendance_and_completion(  # type: ignore[no-untyped-def]
    browser, live_server: str, session: Session, demo: None, frozen_clock: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    institution = demo_partner(session, INSTITUTIONS[0])
    platform = demo_partner(session, PLATFORMS[0])
    # bought, confirmed, redeemed, attended and completed through the marketplace's service (as the signed API does)
    marketplace(session, platform, institution, monkeypatch)

    context, page = phone(browser)
    sign_in(page, live_server, "institution")
    assert page.url == live_server + "/portal/lembaga"
    participants = page.get_by_test_id("participant")
    assert participants.count() == 4 and "Ni M**e D**i" in participants.first.inner_text()
    assert "Ni Made Dewi" not in page.content()
    counts = [c.inner_text() for c in page.get_by_test_id("attendance-count").all()]
    assert sorted(counts) == ["0 / 1"] * 4 + ["1 / 1"]
    states = sorted(s.inner_text() for s in page.get_by_test_id("completion-status").all())
    assert states == ["Dalam tinjauan", "Diterima", "Ditolak"]
    assert "pola mencurigakan" in page.get_by_test_id("refusal-reason").inner_text()
    assert "Rp878.750" in page.get_by_test_id("statement-payable").inner_text()
    assert "Rp878.750" in page.get_by_test_id("ledger-balance").inner_text()
    no_sideways_scroll(page)
    page.get_by_role("link", name="Lihat laporan").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("statement-line").count() == 1
    assert "Rp878.750" in page.get_by_test_id("statement-payable").inner_text()
    no_sideways_scroll(page)
    context.close()

    context, page = phone(browser)
    sign_in(page, live_server, "platform")
    assert page.url == live_server + "/portal/platform"
    assert page.get_by_test_id("sale").count() == 6
    assert page.get_by_test_id("sales-state").count() == 4
    assert "Rp71.250" in page.get_by_test_id("commission-total").inner_text()
    assert "Rp71.250" in page.get_by_test_id("statement-payable").inner_text()
    no_sideways_scroll(page)
    page.get_by_role("link", name="Lihat laporan").click()
    page.wait_for_load_state()
    assert "Rp71.250" in page.get_by_test_id("statement-payable").inner_text()
    no_sideways_scroll(page)
    context.close()
