"""Marketplace pages in Indonesian: the participant's trainings (voucher and codes to their owner only, windows in
WIB, what is missing before the incentive), the rating form, a course's reviews, the dashboard section; the
program office's review queue, settlement statement (page and CSV) and refused partner calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.kit.clock import clock
from prakerja.training import rules, service
from prakerja.training.models import Completion, CompletionStatus, Purchase
from prakerja.training.schemas import CompletionCreate
from tests.training.conftest import Participant, Partner, make_course, make_participant
from tests.training.test_service import INSTITUTION, buy, complete_self_paced, confirm
from tests.web.test_shell import PASSWORD, csrf, login

pytestmark = pytest.mark.usefixtures("frozen_clock")


def participant_with_login(session: Session, email: str = "dewi@example.org") -> Participant:
    account = auth.create_account(
        session, email=email, password=PASSWORD, role=Role.applicant, display_name="Dewi", created_by=Actor.system()
    )
    session.commit()
    return make_participant(session, account_id=account.id)


def officer(client: TestClient, session: Session) -> None:
    auth.create_account(
        session,
        email="petugas@example.org",
        password=PASSWORD,
        role=Role.pmo_officer,
        display_name="Petugas",
        created_by=Actor.system(),
    )
    session.commit()
    assert login(client, "petugas@example.org").status_code == 303


class TestParticipant:
    def test_my_trainings_rating_and_reviews(
        self, client: TestClient, session: Session, platform: Partner, institution: Partner
    ) -> None:
        webinar = make_course(session, institution, platform)
        spl = make_course(session, institution, platform, format="self_paced", sessions=[], title="Excel Mandiri")
        dewi = participant_with_login(session)
        first = buy(session, platform, dewi, spl)
        complete_self_paced(session, institution, spl, first, confirm(session, platform, dewi, first))
        second = buy(session, platform, dewi, webinar, account="b")
        voucher = confirm(session, platform, dewi, second)
        other = participant_with_login(session, "lain@example.org")

        assert login(client, "dewi@example.org").status_code == 303
        page = client.get("/pelatihan-saya")
        assert page.status_code == 200
        assert voucher in page.text and "16-03-2026 09:00 WIB" in page.text
        assert "Masih diperlukan sebelum insentif" in page.text and "Rating bintang" in page.text
        assert "Sertifikat" in page.text
        assert "Masih diperlukan sebelum insentif" in client.get("/dasbor").text

        form = f"/pelatihan-saya/{first}/nilai"
        token = csrf(client, form)
        bad = client.post(form, data={"stars": "7", "review": "bagus", "csrf_token": token})
        assert bad.status_code == 422 and "1 sampai 5 bintang" in bad.text
        good = client.post(
            form,
            data={"stars": "5", "review": "Sangat bermanfaat untuk usaha saya.", "csrf_token": token},
            follow_redirects=False,
        )
        assert good.status_code == 303
        assert "Rating bintang" not in client.get("/pelatihan-saya").text
        again = client.post(form, data={"stars": "1", "review": "Coba menilai lagi.", "csrf_token": token})
        assert again.status_code == 409
        reviews = client.get(f"/pelatihan/{spl.id}/ulasan")
        assert reviews.status_code == 200 and "Sangat bermanfaat untuk usaha saya." in reviews.text
        assert f"/pelatihan/{spl.id}/ulasan" in client.get(f"/pelatihan/{spl.id}").text

        client.cookies.clear()
        assert login(client, "lain@example.org").status_code == 303
        assert voucher not in client.get("/pelatihan-saya").text
        assert client.get(form).status_code == 404
        assert other.card_number not in client.get("/pelatihan-saya").text


class TestOffice:
    def test_review_settlement_and_refusals(
        self,
        client: TestClient,
        session: Session,
        platform: Partner,
        institution: Partner,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        spl = make_course(session, institution, platform, format="self_paced", sessions=[], title="Excel Mandiri")
        people = [make_participant(session) for _ in range(2)]
        purchases = []
        for n, person in enumerate(people):
            purchase_id = buy(session, platform, person, spl, account=f"akun-{n}")
            voucher = confirm(session, platform, person, purchase_id)
            service.delivery.redeem_voucher(
                session, institution_id=institution.partner_id, voucher_code=voucher, actor=INSTITUTION
            )
            purchases.append(purchase_id)
        session.commit()
        clock.advance(timedelta(hours=spl.hours))
        monkeypatch.setattr(rules, "BURST_COUNT", 2)  # the second report within minutes is a burst
        outcomes = [
            service.completions.report(
                session,
                institution_id=institution.partner_id,
                data=CompletionCreate(purchase_id=purchase_id, completed_at=clock.now(), score=80, passed=True),
                actor=INSTITUTION,
            ).status
            for purchase_id in purchases
        ]
        session.commit()
        assert outcomes == ["accepted", "in_review"]
        row = session.scalars(select(Completion).where(Completion.purchase_id == purchases[1])).one()
        assert row.review_reasons == ["burst"]

        officer(client, session)
        queue = client.get("/pmo/pelatihan/tinjauan")
        assert queue.status_code == 200 and "Banyak laporan dari lembaga" in queue.text
        token = csrf(client, "/pmo/pelatihan/tinjauan")
        refused = client.post(
            f"/pmo/pelatihan/tinjauan/{row.id}", data={"decision": "refuse", "note": "", "csrf_token": token}
        )
        assert refused.status_code == 422
        done = client.post(
            f"/pmo/pelatihan/tinjauan/{row.id}",
            data={"decision": "refuse", "note": "pola mencurigakan", "csrf_token": token},
            follow_redirects=False,
        )
        assert done.status_code == 303
        session.refresh(row)
        assert row.status is CompletionStatus.refused

        day = clock.now().date().isoformat()
        query = f"/pmo/pelatihan/penyelesaian?mitra={institution.partner_id}&dari={day}&sampai={day}"
        statement = client.get(query)
        assert statement.status_code == 200 and "Rp950.000" in statement.text
        csv_text = client.get(query + "&format=csv")
        assert csv_text.status_code == 200 and csv_text.headers["content-type"].startswith("text/csv")
        assert csv_text.text.splitlines()[-1] == "total,,,,950000,0,950000"
        assert (
            client.get(
                f"/pmo/pelatihan/penyelesaian?mitra={institution.partner_id}&dari={day}&sampai=2020-01-01"
            ).status_code
            == 422
        )
        assert client.get("/pmo/pelatihan/penolakan").status_code == 200
        assert session.get(Purchase, purchases[0]) is not None
