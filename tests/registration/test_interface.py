"""The interface waves and selection build on: snapshots by account and set-wise, list look-ups, the factory."""

from __future__ import annotations

import datetime

from sqlalchemy.orm import Session

from prakerja.registration.service import applicant_for_account, list_types_for, nik_index, snapshots
from tests.registration.factories import create_applicant, make_nik, put_on_list


def test_snapshot_fields(session: Session) -> None:
    snap = create_applicant(
        session,
        regency="5171",
        birth_date=datetime.date(1990, 2, 3),
        female=True,
        verified=False,
        declared_student=True,
    )
    assert snap.domicile_province == "51" and snap.domicile_regency == "5171"
    assert snap.birth_date == datetime.date(1990, 2, 3) and not snap.identity_verified
    assert snap.is_citizen and snap.declared_student
    assert len(snap.nik_index) == 32 and len(snap.kk_index) == 32
    assert applicant_for_account(session, snap.account_id) == snap


def test_snapshots_many_and_unknown(session: Session) -> None:
    import uuid

    made = [create_applicant(session) for _ in range(5)]
    found = snapshots(session, [m.applicant_id for m in made] + [uuid.uuid4()])
    assert set(found) == {m.applicant_id for m in made}
    assert applicant_for_account(session, uuid.uuid4()) is None


def test_incomplete_profiles_have_no_snapshot(session: Session) -> None:
    from prakerja.registration.models import Applicant

    snap = create_applicant(session)
    session.query(Applicant).filter(Applicant.id == snap.applicant_id).update({"domicile_regency": None})
    session.expire_all()
    assert applicant_for_account(session, snap.account_id) is None


def test_female_nik_and_lists(session: Session) -> None:
    nik = make_nik(birth_date=datetime.date(2000, 1, 9), female=True, serial=42)
    assert nik[6:12] == "490100"
    snap = create_applicant(session, nik=nik, female=True, birth_date=datetime.date(2000, 1, 9))
    assert snap.nik_index == nik_index(nik)
    put_on_list(session, [nik], list_type="revoked")
    assert list_types_for(session, [snap.nik_index]) == {snap.nik_index: {"revoked"}}
