"""The participant's payouts pages and the officers' repayment demands, through the application (the partner over
real HTTP): linking with the OTP, refusals shown in words with their status and nothing written, the incentive
timeline and its dashboard link; officers open demands and record repayments, the person sees the demand."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.payouts import rules
from prakerja.payouts.models import (
    AccountFailure,
    AccountStatus,
    Clawback,
    ClawbackStatus,
    PayoutAccount,
    PayoutProvider,
)
from prakerja.web.i18n import translations
from tests.payouts.conftest import PaymentsSim
from tests.payouts.paylink_factories import (
    Person,
    allocate_cash,
    count,
    last_otp,
    make_person,
    market,
    open_at_partner,
    register_providers,
    train,
)
from tests.web.test_shell import PASSWORD, login

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "prakerja" / "payouts" / "templates"


def signed_in_person(client: TestClient, session: Session, email: str = "dewi@example.org") -> Person:
    account = auth.create_account(
        session, email=email, password=PASSWORD, role=Role.applicant, display_name="Dewi", created_by=Actor.system()
    )
    session.commit()
    person = make_person(session, account_id=account.id)
    assert login(client, email).status_code == 303
    return person


def token(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


@pytest.fixture
def providers(session: Session, payments_sim: PaymentsSim) -> dict[str, PayoutProvider]:
    return register_providers(session, payments_sim)


def link(client: TestClient, provider: PayoutProvider, number: str) -> httpx.Response:
    return client.post(
        "/rekening-saya",
        data={"provider": str(provider.id), "number": number, "csrf_token": token(client, "/rekening-saya")},
        follow_redirects=False,
    )


class TestLinking:
    def test_ewallet_linked_with_the_otp_then_the_timeline(
        self, client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = signed_in_person(client, session)
        open_at_partner(payments_sim, "ovo", number=person.phone, holder_name="Dewi", nik=person.nik)
        page = client.get("/rekening-saya")
        assert page.status_code == 200 and "Belum ada rekening pembayaran yang ditautkan." in page.text
        assert "OVO (dompet digital)" in page.text and "Bank BNI (rekening bank)" in page.text
        started = link(client, providers["ovo"], person.phone)
        assert started.status_code == 303
        otp_path = started.headers["location"]
        wrong = client.post(
            otp_path,
            data={
                "otp": "000000" if last_otp(payments_sim, "ovo", person.phone) != "000000" else "111111",
                "csrf_token": token(client, otp_path),
            },
        )
        assert wrong.status_code == 422 and "Kode OTP salah" in wrong.text and "Sisa percobaan: 4" in wrong.text
        done = client.post(
            otp_path,
            data={"otp": last_otp(payments_sim, "ovo", person.phone), "csrf_token": token(client, otp_path)},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/insentif-saya?tertaut=1")
        timeline = client.get("/insentif-saya?tertaut=1")
        assert "Rekening Anda sudah tertaut" in timeline.text
        assert "Insentif diperoleh setelah pelatihan pertama Anda selesai." in timeline.text
        dashboard = client.get("/dasbor")
        assert 'href="/insentif-saya"' in dashboard.text
        session.expire_all()
        (row,) = session.scalars(select(PayoutAccount)).all()
        assert (row.status, row.otp_attempts) == (AccountStatus.active, 1)

    def test_an_otp_never_entered_expires_with_its_reason_and_the_person_links_again(
        self, client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = signed_in_person(client, session)
        open_at_partner(payments_sim, "bni", number="5566778899", holder_name="Dewi", nik=person.nik, phone="0")
        started = link(client, providers["bni"], "5566778899")
        otp_path = started.headers["location"]
        code = last_otp(payments_sim, "bni", "5566778899")
        with clock.frozen(clock.now() + rules.OTP_LIFETIME + timedelta(seconds=1)):
            back = client.get(otp_path, follow_redirects=False)
            assert (back.status_code, back.headers["location"]) == (303, "/rekening-saya")
            page = client.get("/rekening-saya")
            assert "Kode OTP tidak dimasukkan dalam 5 menit dan sudah kedaluwarsa" in page.text
            assert 'data-testid="link-again"' in page.text and 'id="tautkan"' in page.text
            late = client.post(otp_path, data={"otp": code, "csrf_token": token(client, "/rekening-saya")})
            assert late.status_code == 409
        session.expire_all()
        (row,) = session.scalars(select(PayoutAccount)).all()
        assert (row.status, row.failure_reason) == (AccountStatus.rejected, AccountFailure.otp_expired)
        again = link(client, providers["bni"], "5566778899")
        done = client.post(
            again.headers["location"],
            data={"otp": last_otp(payments_sim, "bni", "5566778899"), "csrf_token": token(client, "/rekening-saya")},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert 'data-testid="link-again"' not in client.get("/rekening-saya").text
        session.expire_all()
        assert count(session, PayoutAccount, status=AccountStatus.active) == 1

    def test_rejection_shown_in_words(
        self, client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = signed_in_person(client, session)
        open_at_partner(payments_sim, "ovo", number=person.phone, holder_name="Dewi", nik=person.nik, kyc=False)
        assert link(client, providers["ovo"], person.phone).status_code == 303
        page = client.get("/rekening-saya")
        assert "Dompet digital ini belum di-upgrade" in page.text
        assert "ewallet_not_kyc" not in page.text
        english = client.get("/rekening-saya?lang=en")
        assert "This e-wallet is not upgraded" in english.text

    def test_bad_number_refused_next_to_the_field_and_nothing_written(
        self, client: TestClient, session: Session, providers: dict[str, PayoutProvider]
    ) -> None:
        signed_in_person(client, session)
        refused = link(client, providers["bni"], "12ab")
        assert refused.status_code == 422
        assert "Nomor rekening atau nomor HP dompet digital tidak valid." in refused.text
        assert 'aria-invalid="true"' in refused.text
        assert count(session, PayoutAccount) == 0

    def test_partner_down_says_so_and_writes_nothing(
        self, client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        signed_in_person(client, session)
        httpx.post(f"{payments_sim.base('bni')}/sim/faults", json={"server_error": 1})
        refused = link(client, providers["bni"], "0011223344")
        assert refused.status_code == 503
        assert "sedang tidak dapat dihubungi" in refused.text
        assert count(session, PayoutAccount) == 0

    def test_someone_elses_link_is_not_found(
        self, client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        signed_in_person(client, session)
        assert client.get(f"/rekening-saya/{uuid.uuid4()}/otp").status_code == 404
        assert client.get("/rekening-saya/bukan-id/otp").status_code == 404

    def test_not_a_recipient_is_refused(self, client: TestClient, session: Session) -> None:
        auth.create_account(
            session,
            email="bukan@example.org",
            password=PASSWORD,
            role=Role.applicant,
            display_name="Bukan",
            created_by=Actor.system(),
        )
        session.commit()
        login(client, "bukan@example.org")
        assert client.get("/rekening-saya").status_code == 403
        assert client.get("/insentif-saya").status_code == 403


class TestClawbackPages:
    def test_officer_opens_a_demand_records_a_repayment_and_the_person_sees_it(
        self, client: TestClient, session: Session
    ) -> None:
        where = market(session)
        allocate_cash(session, "2023-normal")
        person = make_person(session)
        train(session, person, where, amount=700_000)
        auth.create_account(
            session,
            email="admin@example.org",
            password=PASSWORD,
            role=Role.pmo_admin,
            display_name="Admin",
            created_by=Actor.system(),
        )
        session.commit()
        assert login(client, "admin@example.org").status_code == 303
        empty_reason = client.post(
            "/pmo/pengembalian",
            data={"card_number": person.card_number, "reason": "", "csrf_token": token(client, "/pmo/pengembalian")},
        )
        assert empty_reason.status_code == 422 and "Tuliskan alasannya." in empty_reason.text
        unknown = client.post(
            "/pmo/pengembalian",
            data={
                "card_number": "1" * 16,
                "reason": "Terdaftar sebagai ASN aktif.",
                "csrf_token": token(client, "/pmo/pengembalian"),
            },
        )
        assert unknown.status_code == 404
        assert count(session, Clawback) == 0
        opened = client.post(
            "/pmo/pengembalian",
            data={
                "card_number": person.card_number,
                "reason": "Terdaftar sebagai ASN aktif.",
                "csrf_token": token(client, "/pmo/pengembalian"),
            },
            follow_redirects=False,
        )
        assert opened.status_code == 303
        detail = opened.headers["location"]
        assert "Rp700.000" in client.get(detail).text
        too_much = client.post(
            detail + "/pembayaran",
            data={"amount": "800000", "reference": "TRF-1", "csrf_token": token(client, detail)},
        )
        assert too_much.status_code == 422 and "melebihi sisa" in too_much.text
        paid = client.post(
            detail + "/pembayaran",
            data={"amount": "700000", "reference": "TRF-1", "csrf_token": token(client, detail)},
            follow_redirects=False,
        )
        assert paid.status_code == 303
        assert "Lunas" in client.get(detail).text
        session.expire_all()
        assert session.scalars(select(Clawback)).one().status is ClawbackStatus.repaid

    def test_an_officer_without_authority_sees_but_cannot_act(self, client: TestClient, session: Session) -> None:
        person = make_person(session)
        auth.create_account(
            session,
            email="petugas@example.org",
            password=PASSWORD,
            role=Role.pmo_officer,
            display_name="Petugas",
            created_by=Actor.system(),
        )
        session.commit()
        login(client, "petugas@example.org")
        page = client.get("/pmo/pengembalian")
        assert page.status_code == 200 and 'action="/pmo/pengembalian"' not in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/rekening-saya").text or "")
        refused = client.post(
            "/pmo/pengembalian",
            data={
                "card_number": person.card_number,
                "amount": "5",
                "reason": "Terdaftar sebagai ASN aktif.",
                "csrf_token": csrf.group(1) if csrf else "",
            },
        )
        assert refused.status_code == 403
        assert count(session, Clawback) == 0

    def test_the_person_sees_the_demand(self, client: TestClient, session: Session) -> None:
        from prakerja.payouts.service import clawbacks
        from tests.payouts.paylink_factories import OFFICER

        person = signed_in_person(client, session)
        clawbacks.open_clawback(
            session, recipient_id=person.recipient_id, reason="Terdaftar sebagai ASN aktif.", actor=OFFICER, amount=5000
        )
        session.commit()
        page = client.get("/insentif-saya")
        assert (
            "Tuntutan pengembalian dana" in page.text and "Rp5.000" in page.text and "Harus dikembalikan" in page.text
        )

    def test_an_administrator_withdraws_a_demand_raised_in_error_and_the_person_sees_it_withdrawn(
        self, client: TestClient, session: Session
    ) -> None:
        from prakerja.payouts.service import clawbacks
        from tests.payouts.paylink_factories import OFFICER

        person = signed_in_person(client, session)
        demand = clawbacks.open_clawback(
            session, recipient_id=person.recipient_id, reason="Terdaftar sebagai ASN aktif.", actor=OFFICER, amount=5000
        )
        auth.create_account(
            session,
            email="admin@example.org",
            password=PASSWORD,
            role=Role.pmo_admin,
            display_name="Admin",
            created_by=Actor.system(),
        )
        session.commit()
        officer = TestClient(client.app, base_url="http://testserver")
        assert login(officer, "admin@example.org").status_code == 303
        detail = f"/pmo/pengembalian/{demand.id}"
        assert 'action="' + detail + '/tarik"' in officer.get(detail).text
        short = officer.post(detail + "/tarik", data={"reason": "keliru", "csrf_token": token(officer, detail)})
        assert short.status_code == 422 and "Tuliskan alasannya." in short.text
        why = "Keliru: NIK tertukar dengan ASN lain yang bernama sama."
        done = officer.post(
            detail + "/tarik", data={"reason": why, "csrf_token": token(officer, detail)}, follow_redirects=False
        )
        assert done.status_code == 303
        page = officer.get(detail).text
        assert "Ditarik" in page and why in page and 'action="' + detail + '/tarik"' not in page
        session.expire_all()
        assert session.scalars(select(Clawback)).one().status is ClawbackStatus.withdrawn
        mine = client.get("/insentif-saya").text
        assert 'data-testid="clawback-withdrawn"' in mine and "tidak perlu mengembalikannya" in mine and why in mine
        assert "WIB" in mine


def test_every_template_string_is_translated() -> None:
    catalogue = translations("id")
    missing = []
    for path in TEMPLATES.rglob("*.html"):
        for msg in re.findall(r"""_\(\s*"([^"]+)"\s*\)""", path.read_text()):
            if catalogue.gettext(msg) == msg:
                missing.append(f"{path.name}: {msg}")
    assert missing == []


def test_officers_see_a_shared_payout_account_with_the_other_shared_signals(
    client: TestClient, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
) -> None:
    from prakerja.payouts.service import accounts
    from prakerja.registration.service import integrity
    from tests.payouts.paylink_factories import SYSTEM

    owner = make_person(session)
    open_at_partner(payments_sim, "bni", number="5566778899", holder_name="Siti", nik=owner.nik, phone="0")
    for person in (owner, make_person(session), make_person(session)):
        accounts.start_link(
            session, account_id=person.account_id, provider_id=providers["bni"].id, number="5566778899", actor=SYSTEM
        )
        session.commit()
    integrity.scan(session)
    auth.create_account(
        session,
        email="petugas@example.org",
        password=PASSWORD,
        role=Role.pmo_officer,
        display_name="Petugas",
        created_by=Actor.system(),
    )
    session.commit()
    login(client, "petugas@example.org")
    page = client.get("/pmo/tanda")
    assert page.status_code == 200
    assert page.text.count("Rekening bank atau dompet digital yang sama dengan pendaftar lain") == 3
    assert "5566778899" not in page.text


def test_the_timeline_says_why_an_incentive_waits(client: TestClient, session: Session) -> None:
    from prakerja.payouts.service import entitlements

    person = signed_in_person(client, session)
    train(session, person, market(session), review="")
    entitlements.refresh(session, person.recipient_id)
    session.commit()
    page = client.get("/insentif-saya")
    assert "Insentif pasca pelatihan 1" in page.text and "Rp600.000" in page.text
    assert "Tertahan" in page.text and "Tulis ulasan untuk pelatihan pertama Anda." in page.text
    assert "no_review" not in page.text
    assert "Tulis ulasan untuk pelatihan pertama Anda." in client.get("/dasbor").text
    assert "Write a review of your first training." in client.get("/insentif-saya?lang=en").text
