"""Demo data for waves and the lottery: an announced wave with published, verifiable files (the demo applicant
took part), and an open wave to join. Synthetic people only; idempotent."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Account, Role
from prakerja.kit.clock import clock, utcnow
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.registration import service as registration
from prakerja.registration.models import Applicant, IdentityStatus
from prakerja.selection import service as selection
from prakerja.simulators import dukcapil
from prakerja.waves import service as waves

DEMO_TITLE = "Gelombang Demo 1"
OTHER_REGENCIES = ("3273", "5171")
PEOPLE = 36
SYSTEM = Actor(id=None, role="demo")
BUDGET_RECIPIENTS = 200
"""Each demo budget-year covers this many training balances: wave 1's recipients, wave 2 and an officer's next
waves (a budget of wave 1 alone would make the next announcement fail for want of money)."""
DEMO_PERSON = 1
"""The synthetic civil-registry person the registration demo gives the demo applicant."""


def _regencies() -> tuple[str, ...]:
    """The demo applicant's own regency first, so their stratum is in the wave."""
    own = str(dukcapil.person(DEMO_PERSON)["regency"])
    return (own, *(r for r in OTHER_REGENCIES if r != own))


def _synthetic_applicant(session: Session, index: int) -> uuid.UUID:
    """A verified synthetic person (never a real NIK: serials 9000+ in a fixed birth date)."""
    regencies = _regencies()
    regency = regencies[index % len(regencies)]
    nik = f"{regency}011505{90 + index % 5:02d}{9000 + index:04d}"[:16]
    kk = f"{regency}01{9_000_000 + index:010d}"[:16]
    email = f"demo-peserta-{index:03d}@demo.prakerja.id"
    account = Account(
        id=new_id(),
        email=email,
        email_index=auth.email_index(email),
        password_hash="!demo",  # noqa: S106  (no password: these synthetic accounts cannot sign in)
        role=Role.applicant,
        display_name=f"Peserta Demo {index:03d}",
    )
    session.add(account)
    session.flush()
    now = utcnow()
    session.add(
        Applicant(
            account_id=account.id,
            nik=nik,
            nik_index=blind_index(nik, "nik"),
            kk=kk,
            kk_index=blind_index(kk, "kk"),
            birth_date="1990-05-15",
            sex="M",
            full_name=f"Peserta Demo {index:03d}",
            mother_maiden_name="Ibu Demo",
            ktp_address="Jl. Demo No. 1",
            domicile_address="Jl. Demo No. 1",
            domicile_province=regency[:2],
            domicile_regency=regency,
            domicile_district=f"{regency}01",
            ktp_province=regency[:2],
            ktp_regency=regency,
            ktp_district=f"{regency}01",
            education="sma",
            job_status="job_seeker",
            has_disability=False,
            former_migrant_worker=False,
            is_citizen=True,
            declared_student=False,
            identity_status=IdentityStatus.matched.value,
            submitted_at=now,
            identity_checked_at=now,
        )
    )
    session.flush()
    return account.id


def seed(session: Session, *, demo_applicant_email: str) -> None:
    """Wave 1 announced (commitment, seed, results published; outcomes sent), wave 2 open."""
    if any(w.title == DEMO_TITLE for w in waves.list_waves(session)):
        return
    now = utcnow()
    first = waves.create_wave(
        session,
        title=DEMO_TITLE,
        scheme="2023-normal",
        opens_at=now - timedelta(days=14),
        closes_at=now + timedelta(minutes=5),
        total_quota=12,
        priority_tiers=[{"name": "Korban PHK", "whitelist_types": ["laid_off"], "regencies": []}],
        actor=SYSTEM,
    )
    waves.open_wave(session, first.id, actor=SYSTEM)
    accounts = [_synthetic_applicant(session, i) for i in range(PEOPLE)]
    demo = auth.email_index(demo_applicant_email)
    demo_account = next((a.id for a in session.query(Account).filter(Account.email_index == demo).limit(1)), None)
    if demo_account is not None and registration.applicant_for_account(session, demo_account) is not None:
        accounts.append(demo_account)
        _whitelist_as_laid_off(session, demo_account)  # priority tier 0: the demo applicant becomes a recipient
    for account_id in accounts:
        waves.join(session, account_id=account_id, wave_id=first.id, consent=True)
    waves.close_wave(session, first.id, actor=SYSTEM)
    waves.set_quotas_by_applicants(session, first.id, actor=SYSTEM)
    reference = f"drand/quicknet/round/demo-{now:%Y%m%d}"
    selection.commit(
        session, first.id, randomness_source="drand quicknet (demo)", randomness_reference=reference, actor=SYSTEM
    )
    value = hashlib.sha256(f"prakerja demo {now.date()}".encode()).hexdigest()
    selection.seed(session, first.id, reference=reference, value=value, actor=SYSTEM)
    year = clock.today_jakarta().year
    for budget_year in (year, year + 1):
        ledger.allocate_budget(
            session,
            transfer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"prakerja-demo-budget-{budget_year}"),
            scheme="2023-normal",
            year=budget_year,
            amount=BUDGET_RECIPIENTS * 3_500_000,
            actor=SYSTEM,
        )
    selection.announce(session, first.id, actor=SYSTEM, override_reason="data demo kecil")
    while selection.process_outcomes(session, first.id):
        pass
    second = waves.create_wave(
        session,
        title="Gelombang Demo 2",
        scheme="2023-normal",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=30),
        total_quota=20,
        actor=SYSTEM,
    )
    waves.open_wave(session, second.id, actor=SYSTEM)


def _whitelist_as_laid_off(session: Session, account_id: uuid.UUID) -> None:
    """Through the same import the labour ministry's list uses, with its provenance."""
    nik = session.query(Applicant.nik).filter(Applicant.account_id == account_id).scalar()
    registration.lists.import_list(
        session,
        data=f"nik\n{nik}\n".encode(),
        filename="demo-korban-phk.csv",
        list_type="laid_off",
        source="Data demo (Kemnaker)",
        as_of=clock.today_jakarta().date(),
        mode="merge",
        actor=SYSTEM,
        via="cli",
    )
