"""The settlement pages: an institution (and a platform) records its settlement account on its portal, sees its
verification status and, after the settlement run, the payment it received next to the month's statement (the
remittance advice, page and CSV); a bad number is refused next to the form with nothing written; officers see the
same on the partner page and every settlement on /pmo/pembayaran/penyelesaian. Indonesian first, English on request."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.config import get_settings
from prakerja.partners import service as partners
from prakerja.payouts.models import PayoutRun, Settlement, SettlementAccount, SettlementStatus
from prakerja.payouts.service import settlements
from tests.partners.conftest import Partner
from tests.payouts.conftest import PaymentsSim
from tests.payouts.conftest import payments_sim as payments_sim
from tests.payouts.settle_factories import (
    INSTITUTION_NUMBER,
    PERIOD,
    PLATFORM_NUMBER,
    accepted_completions,
    after_march,
    bank_otp,
    open_bank_account,
    record_confirmed,
)
from tests.payouts.test_run_paying import factory, provider_at, until_settled  # noqa: F401
from tests.web.test_shell import create_account, csrf, login

OFFICER = Actor(id=None, role="pmo_admin")


def member(session: Session, partner: Partner, email: str, role: Role) -> None:
    create_account(session, email=email, role=role, name="Staf " + email.split("@")[0])
    partners.add_member(session, partner_id=partner.partner_id, email=email, role="admin", actor=OFFICER)
    session.commit()


def confirm_otp(client: TestClient, home: str, otp: str) -> object:
    return client.post(
        f"{home}/pembayaran/rekening/otp",
        data={"otp": otp, "csrf_token": csrf(client, f"{home}/pembayaran")},
        follow_redirects=False,
    )


def post_account(client: TestClient, home: str, provider: str, number: str) -> object:
    return client.post(
        f"{home}/pembayaran/rekening",
        data={"provider": provider, "number": number, "csrf_token": csrf(client, f"{home}/pembayaran")},
        follow_redirects=False,
    )


def test_an_institution_records_its_account_and_sees_the_payment_next_to_its_statement(
    client: TestClient,
    session: Session,
    factory: sessionmaker[Session],  # noqa: F811
    frozen_clock: object,
    payments_sim: PaymentsSim,
) -> None:
    market = accepted_completions(session)
    after_march()
    bank = provider_at(session, payments_sim, "bni")
    session.commit()
    member(session, market.institution, "staf@lembaga.example", Role.institution)
    assert login(client, "staf@lembaga.example").status_code == 303
    home = "/portal/lembaga"
    assert 'href="/portal/lembaga/pembayaran"' in client.get(home).text

    first = client.get(f"{home}/pembayaran")
    assert first.status_code == 200
    assert "Belum ada rekening penyelesaian" in first.text and "Lembaga Pelatihan Uji" in first.text

    refused = post_account(client, home, str(bank.id), "12-ab")
    assert refused.status_code == 422 and "Nomor rekening atau nomor HP" in refused.text  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(SettlementAccount)) == 0

    open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="LEMBAGA PELATIHAN UJI")
    assert post_account(client, home, str(bank.id), INSTITUTION_NUMBER).status_code == 303  # type: ignore[attr-defined]
    waiting = client.get(f"{home}/pembayaran").text
    assert "Menunggu kode OTP dari bank" in waiting and 'data-testid="settlement-otp"' in waiting
    wrong = "000000" if bank_otp(payments_sim, INSTITUTION_NUMBER) != "000000" else "111111"
    refused = confirm_otp(client, home, wrong)
    assert refused.status_code == 422 and "Bank tidak menerima kode ini" in refused.text  # type: ignore[attr-defined]
    assert confirm_otp(client, home, bank_otp(payments_sim, INSTITUTION_NUMBER)).status_code == 303  # type: ignore[attr-defined]
    page = client.get(f"{home}/pembayaran").text
    assert "Diverifikasi bank" in page and "******0001" in page and INSTITUTION_NUMBER not in page

    _prepared, run = settlements.start_run(session, period=PERIOD, run_date=date(2026, 4, 1), actor=OFFICER)
    session.commit()
    assert run is not None
    until_settled(factory, run.id)

    page = client.get(f"{home}/pembayaran").text
    assert page.count('data-testid="settlement"') == 1 and page.count('data-testid="payment"') == 1
    assert f"Rp{market.net:,}".replace(",", ".") in page and "Dibayar" in page
    assert f'href="{home}/penyelesaian/{PERIOD}"' in page
    statement = client.get(f"{home}/penyelesaian/{PERIOD}")
    assert statement.status_code == 200
    assert "Pembayaran laporan ini" in statement.text and 'data-testid="payment"' in statement.text
    assert f"PRAKERJA SETTLEMENT {PERIOD} institution:{market.institution.partner_id}:{PERIOD}" in statement.text
    csv_text = client.get(f"{home}/penyelesaian/{PERIOD}?format=csv").text
    assert csv_text.splitlines()[-1] == f"total,,,,{market.gross},{market.commission},{market.net}"
    english = client.get(f"{home}/pembayaran?lang=en").text
    assert "Settlement account and payments" in english and "Verified by the bank" in english


def test_a_platform_without_an_account_sees_why_and_officers_see_it_too(
    client: TestClient,
    session: Session,
    frozen_clock: object,
    payments_sim: PaymentsSim,
) -> None:
    market = accepted_completions(session)
    after_march()
    bank = provider_at(session, payments_sim, "bni")
    session.commit()
    open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="Lembaga Pelatihan Uji")
    record_confirmed(
        session,
        payments_sim,
        organisation_id=market.institution.partner_id,
        provider_id=bank.id,
        number=INSTITUTION_NUMBER,
    )
    settlements.prepare(session, period=PERIOD, actor=OFFICER)
    session.commit()
    member(session, market.platform, "staf@platform.example", Role.platform)
    assert login(client, "staf@platform.example").status_code == 303
    page = client.get("/portal/platform/pembayaran").text
    assert "Tertahan" in page and "Belum ada rekening penyelesaian yang terverifikasi" in page
    assert "Belum ada pembayaran yang dikirim" in page
    assert client.get("/portal/lembaga/pembayaran").status_code == 403

    open_bank_account(payments_sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
    assert post_account(client, "/portal/platform", str(bank.id), PLATFORM_NUMBER).status_code == 303  # type: ignore[attr-defined]
    assert "Menunggu kode OTP dari bank" in client.get("/portal/platform/pembayaran").text
    otp = bank_otp(payments_sim, PLATFORM_NUMBER)
    assert confirm_otp(client, "/portal/platform", otp).status_code == 303  # type: ignore[attr-defined]
    assert "Dijadwalkan pada putaran penyelesaian berikutnya" in client.get("/portal/platform/pembayaran").text

    client.post("/keluar", data={"csrf_token": csrf(client, "/")})
    client.cookies.clear()
    create_account(session, email="petugas@pmo.example", role=Role.pmo_officer, name="Petugas PMO")
    assert login(client, "petugas@pmo.example").status_code == 303
    overview = client.get("/pmo/pembayaran/penyelesaian")
    assert overview.status_code == 200
    assert overview.text.count('data-testid="settlement"') == 2 and "Platform Belajar Uji" in overview.text
    partner_page = client.get(f"/pmo/mitra/{market.institution.partner_id}").text
    assert 'data-testid="officer-settlement"' in partner_page and "******0001" in partner_page
    assert "Diverifikasi bank" in partner_page
    # an officer (not an administrator) cannot start a settlement run
    started = client.post(
        "/pmo/pembayaran/penyelesaian",
        data={"period": PERIOD, "csrf_token": csrf(client, "/pmo/pembayaran/penyelesaian")},
        follow_redirects=False,
    )
    assert started.status_code == 403


@pytest.mark.parametrize("period", ["2026-13", "maret"])
def test_an_administrator_is_told_of_a_bad_month_and_nothing_is_prepared(
    client: TestClient, session: Session, period: str
) -> None:
    create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin PMO")
    assert login(client, "admin@pmo.example").status_code == 303
    answer = client.post(
        "/pmo/pembayaran/penyelesaian",
        data={"period": period, "csrf_token": csrf(client, "/pmo/pembayaran/penyelesaian")},
        follow_redirects=False,
    )
    assert answer.status_code == 422 and "TTTT-BB" in answer.text


def test_an_administrator_runs_the_settlement_again_the_same_day_audited_and_nothing_is_paid_twice(
    client: TestClient,
    session: Session,
    factory: sessionmaker[Session],  # noqa: F811
    frozen_clock: object,
    payments_sim: PaymentsSim,
) -> None:
    market = accepted_completions(session)
    after_march()
    bank = provider_at(session, payments_sim, "bni")
    session.commit()
    open_bank_account(payments_sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
    record_confirmed(
        session, payments_sim, organisation_id=market.platform.partner_id, provider_id=bank.id, number=PLATFORM_NUMBER
    )
    session.commit()
    create_account(session, email="admin@pmo.example", role=Role.pmo_admin, name="Admin PMO")
    assert login(client, "admin@pmo.example").status_code == 303
    page = "/pmo/pembayaran/penyelesaian"
    assert "Jalankan lagi" in client.get(page).text
    first = client.post(page, data={"period": PERIOD, "csrf_token": csrf(client, page)}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/pmo/pembayaran/")
    today_run = session.scalars(select(PayoutRun)).one()
    until_settled(factory, today_run.id)
    # the institution's account is verified after today's run: "Jalankan lagi" pays it by a further run today
    open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="LEMBAGA PELATIHAN UJI")
    record_confirmed(
        session,
        payments_sim,
        organisation_id=market.institution.partner_id,
        provider_id=bank.id,
        number=INSTITUTION_NUMBER,
    )
    session.commit()
    again = client.post(
        f"{page}/lagi", data={"period": PERIOD, "csrf_token": csrf(client, page)}, follow_redirects=False
    )
    assert again.status_code == 303
    further = session.scalars(select(PayoutRun).where(PayoutRun.sequence == 2)).one()
    assert again.headers["location"] == f"/pmo/pembayaran/{further.id}"
    until_settled(factory, further.id)
    audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "payouts.settlement_run_again")).all()
    assert len(audited) == 1 and audited[0].data["run_id"] == str(further.id)
    # again: nothing due, no third run, said so (and audited)
    nothing = client.post(page + "/lagi", data={"period": PERIOD, "csrf_token": csrf(client, page)})
    assert nothing.status_code == 200 and "Tidak ada yang perlu dibayar" in nothing.text
    assert session.scalar(select(func.count()).select_from(PayoutRun)) == 2
    paid = payments_sim.simulator.partners["bni"].payments
    assert sorted((p.number, p.times_paid) for p in paid.values()) == [(INSTITUTION_NUMBER, 1), (PLATFORM_NUMBER, 1)]
    assert {s.status for s in session.scalars(select(Settlement))} == {SettlementStatus.paid}
    # an officer (not an administrator) cannot run it again
    client.post("/keluar", data={"csrf_token": csrf(client, "/")})
    client.cookies.clear()
    create_account(session, email="petugas@pmo.example", role=Role.pmo_officer, name="Petugas PMO")
    assert login(client, "petugas@pmo.example").status_code == 303
    refused = client.post(page + "/lagi", data={"period": PERIOD, "csrf_token": csrf(client, page)})
    assert refused.status_code == 403


def test_an_institution_cannot_probe_bank_accounts_past_its_hourly_inquiries(
    client: TestClient,
    session: Session,
    frozen_clock: object,
    payments_sim: PaymentsSim,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each account recorded is a bank inquiry: past ``settlement_inquiries_per_hour`` for the organisation (refused
    ones included), 429 with the words in Indonesian and Retry-After, nothing asked of the bank, nothing written;
    another organisation is not affected. Before, any number of inquiries went to the bank."""
    monkeypatch.setattr(get_settings(), "settlement_inquiries_per_hour", 2)
    market = accepted_completions(session)
    after_march()
    bank = provider_at(session, payments_sim, "bni")
    session.commit()
    member(session, market.institution, "staf@lembaga.example", Role.institution)
    assert login(client, "staf@lembaga.example").status_code == 303
    home = "/portal/lembaga"
    for number in ("1234500091", "1234500092"):  # two probes: the bank answers (not found), refusals are written
        assert post_account(client, home, str(bank.id), number).status_code == 303  # type: ignore[attr-defined]
    recorded = session.scalar(select(func.count()).select_from(SettlementAccount))
    third = post_account(client, home, str(bank.id), "1234500093")
    assert third.status_code == 429  # type: ignore[attr-defined]
    assert "Terlalu banyak pemeriksaan rekening penyelesaian" in third.text  # type: ignore[attr-defined]
    assert int(third.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    assert session.scalar(select(func.count()).select_from(SettlementAccount)) == recorded == 2
    open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="LEMBAGA PELATIHAN UJI")
    assert post_account(client, home, str(bank.id), INSTITUTION_NUMBER).status_code == 429  # type: ignore[attr-defined]
    # the platform's own inquiries are counted apart
    client.post("/keluar", data={"csrf_token": csrf(client, "/")})
    client.cookies.clear()
    member(session, market.platform, "staf@platform.example", Role.platform)
    assert login(client, "staf@platform.example").status_code == 303
    open_bank_account(payments_sim, number=PLATFORM_NUMBER, holder_name="Platform Belajar Uji")
    assert post_account(client, "/portal/platform", str(bank.id), PLATFORM_NUMBER).status_code == 303  # type: ignore[attr-defined]
