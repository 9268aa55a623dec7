"""A wave in a real browser, in Indonesian: an applicant joins, the PMO announces after the draw, the applicant
sees the outcome and downloads a proof that the verifier accepts; the public page serves the files."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.auth.models import Account, Role
from prakerja.auth.rules import hash_password
from prakerja.ledger import service as ledger
from prakerja.selection import service as selection
from prakerja.waves import service as waves
from tests.registration.factories import create_applicant
from tests.selection.factories import PMO
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser


def _sign_in(page, live_server: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()


def test_join_draw_announce_proof(page, live_server: str, session: Session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    wave = waves.create_wave(
        session,
        title="Gelombang Uji",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        total_quota=1,
        actor=PMO,
    )
    waves.open_wave(session, wave.id, actor=PMO)
    person = create_applicant(session, regency="3201", email="peserta@example.org")
    account = session.get(Account, person.account_id)
    assert account is not None
    account.password_hash = hash_password(PASSWORD)
    rival = create_applicant(session, regency="3201")
    waves.join(session, account_id=rival.account_id, wave_id=wave.id, consent=True)
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin PMO")
    session.commit()

    # the applicant joins through the page, consent first
    _sign_in(page, live_server, "peserta@example.org")
    page.goto(live_server + "/gelombang")
    page.get_by_role("button", name="Gabung gelombang ini").click()
    assert page.get_by_role("alert").inner_text().startswith("Anda perlu menyetujui")
    page.get_by_label("Saya menyetujui syarat dan ketentuan").check()
    page.get_by_role("button", name="Gabung gelombang ini").click()
    page.wait_for_url("**/tanda-terima")
    secret = page.get_by_test_id("entry-secret").get_attribute("data-value") or ""
    assert re.fullmatch(r"[0-9a-f]{64}", secret)

    # the office closes, commits and draws (services), then announces through its page
    waves.close_wave(session, wave.id, actor=PMO)
    waves.set_quotas(session, wave.id, {"3201": 1}, method="csv", actor=PMO)
    selection.commit(session, wave.id, randomness_source="drand", randomness_reference="round/1", actor=PMO)
    selection.seed(session, wave.id, reference="round/1", value="c0ffee" * 8, actor=PMO)
    selection.record_fairness(session, wave.id)  # the job the draw queued
    ledger.allocate_budget(
        session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=now.year + 1, amount=10**8, actor=PMO
    )
    ledger.allocate_budget(
        session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=now.year, amount=10**8, actor=PMO
    )
    session.commit()
    page.context.clear_cookies()
    _sign_in(page, live_server, "admin@example.org")
    page.goto(f"{live_server}/pmo/undian/{wave.id}")
    assert page.get_by_test_id("wave-state").inner_text() == "Sudah diundi, belum diumumkan"
    assert "lulus" in page.get_by_test_id("fairness").inner_text()
    page.get_by_role("link", name="Umumkan hasil").click()  # asks first, with the money it takes
    page.wait_for_load_state()
    assert "Rp3.500.000" in page.get_by_test_id("confirm-text").inner_text()
    page.get_by_role("button", name="Ya, terbitkan hasil dan beri tahu pendaftar").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("wave-state").inner_text() == "Hasil sudah diumumkan"
    while selection.process_outcomes(session, wave.id):
        pass
    session.commit()

    # the public page serves every file
    page.goto(live_server + "/undian")
    card = page.get_by_test_id(f"public-wave-{wave.number}")
    assert card.get_by_role("link", name="results.csv").count() == 1

    # the applicant sees the outcome and downloads the proof
    page.context.clear_cookies()
    _sign_in(page, live_server, "peserta@example.org")
    page.goto(live_server + "/dasbor")
    section = page.locator("#section-wave").inner_text()
    assert f"Gelombang {wave.number}: sudah bergabung." in section
    assert ("Selamat" in section) != ("belum terpilih" in section)
    with page.expect_download() as download:
        page.locator("#section-wave").get_by_role("link", name="Buka").click()
    folder = tmp_path / "files"
    folder.mkdir()
    download.value.save_as(str(folder / "proof.json"))
    for name in ("eligible.csv", "commitment.json", "commitment.sig", "public-key.pem", "seed.json", "results.csv"):
        response = page.request.get(f"{live_server}/undian/{wave.id}/{name}")
        (folder / name).write_bytes(response.body())
    result = lottery.verify_folder(folder, folder / "proof.json")
    assert result.ok and result.proof is not None
    assert result.proof.entry_hash == lottery.entry_hash(str(wave.id), bytes.fromhex(secret))


@pytest.fixture
def page_without_js(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, locale="id-ID", viewport={"width": 390, "height": 844})
    yield context.new_page()
    context.close()


def test_pmo_imports_a_region_list_and_edits_the_tiers(  # type: ignore[no-untyped-def]
    page_without_js, live_server: str, session: Session, tmp_path: Path
) -> None:
    """Without JavaScript, on a phone-sized screen, in Indonesian: the office imports the extreme-poverty regencies
    from a CSV file, then makes them tier 1 of a draft wave, fixing a mistyped code it was told about."""
    now = datetime.now(UTC)
    wave = waves.create_wave(
        session,
        title="Gelombang Prioritas",
        scheme="2023-normal",
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=8),
        total_quota=10,
        priority_tiers=[{"name": "Korban PHK", "whitelist_types": ["laid_off"]}],
        actor=PMO,
    )
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin PMO")
    session.commit()
    page = page_without_js
    _sign_in(page, live_server, "admin@example.org")

    # the region list, from the annex as a CSV file
    annex = tmp_path / "lampiran.csv"
    annex.write_text("kode,nama\n32.01,Kabupaten Bogor\n93.01,Kabupaten Merauke\n", encoding="utf-8")
    page.goto(live_server + "/pmo/daftar-wilayah")
    page.locator("#name").fill("kemiskinan-ekstrem-2022")
    page.locator("#source").fill("Keputusan Menko PMK No. 25 Tahun 2022, Lampiran")
    page.locator("#as_of").fill("2022-09-27")
    page.locator("#file").set_input_files(str(annex))
    page.get_by_role("button", name="Impor").click()
    page.wait_for_load_state()
    assert "kemiskinan-ekstrem-2022" in page.get_by_test_id("region-lists").inner_text()

    # the tiers: a new row moved to the top, with the list and a mistyped extra code
    page.goto(f"{live_server}/pmo/gelombang/{wave.id}")
    page.get_by_test_id("tiers-link").click()
    page.wait_for_load_state()
    page.locator("#name_1").fill("Kemiskinan ekstrem")
    page.locator("#position_0").fill("3")  # Korban PHK moves below the new row
    page.locator("#region_list_1").select_option("kemiskinan-ekstrem-2022")
    page.locator("#regencies_1").fill("3273, 9999")
    page.get_by_role("button", name="Simpan prioritas").click()
    page.wait_for_load_state()
    error = page.get_by_test_id("regencies_1-error").inner_text()
    assert "Tidak ada dalam daftar wilayah resmi (Kemendagri)" in error and "9999" in error
    assert page.locator("#name_1").input_value() == "Kemiskinan ekstrem"  # nothing typed is lost
    assert page.locator("#regencies_1").get_attribute("aria-invalid") == "true"
    page.locator("#regencies_1").fill("3273")
    page.get_by_role("button", name="Simpan prioritas").click()
    page.wait_for_load_state()
    table = page.get_by_test_id("tier-table").inner_text()
    assert table.index("Kemiskinan ekstrem") < table.index("Korban PHK")
    assert "kemiskinan-ekstrem-2022: 2 kabupaten/kota" in table and "Lampiran" in table
    session.expire_all()
    stored = waves.get_wave(session, wave.id).priority_tiers
    assert stored[0]["regencies"] == ["3273"] and stored[0]["region_list"]["codes"] == ["3201", "9301"]
