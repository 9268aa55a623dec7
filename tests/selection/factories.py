"""Keyword-only helpers: waves in any stage with entries, without going through registration (fast, for the
lottery's persisted path)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit.service import Actor
from prakerja.auth.models import Account, Role
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index
from prakerja.schemes.rules import file_hash
from prakerja.waves.models import Entry, EntryStatus, Quota, StratumLevel, Wave, WaveState

PMO = Actor(id=None, role="pmo_admin")
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Made:
    entry_id: uuid.UUID
    account_id: uuid.UUID
    applicant_id: uuid.UUID
    secret: bytes
    entry_hash: str
    stratum: str
    tier: int


def create_account(session: Session, *, role: Role = Role.applicant) -> Account:
    email = f"user-{uuid.uuid4().hex[:12]}@example.org"
    account = Account(
        id=new_id(),
        email=email,
        email_index=blind_index(email, "email"),
        password_hash="!factory",
        role=role,
        display_name="Peserta Uji",
    )
    session.add(account)
    session.flush()
    return account


def create_wave(
    session: Session,
    *,
    state: WaveState = WaveState.closed,
    quotas: dict[str, int] | None = None,
    number: int | None = None,
    scheme: str = "2023-normal",
    level: StratumLevel = StratumLevel.regency,
    total_quota: int | None = None,
) -> Wave:
    quotas = quotas if quotas is not None else {"3201": 2}
    wave = Wave(
        id=new_id(),
        number=number or secrets.randbelow(10**6) + 1,
        title="Gelombang uji",
        state=state,
        scheme_name=scheme,
        scheme_hash=file_hash(scheme),
        opens_at=T0,
        closes_at=T0 + timedelta(days=7),
        total_quota=sum(quotas.values()) if total_quota is None else total_quota,
        stratum_level=level,
        provinces=[],
        priority_tiers=[],
        quota_method="csv",
    )
    session.add(wave)
    session.flush()
    for code, value in quotas.items():
        session.add(Quota(wave_id=wave.id, stratum=code, quota=value))
    session.flush()
    return wave


def add_entries(
    session: Session,
    wave: Wave,
    strata: Sequence[tuple[str, int]],
    *,
    status: EntryStatus = EntryStatus.eligible,
    start: datetime = T0,
) -> list[Made]:
    """One entry (with its own account) per (stratum, tier); joined one minute apart in the given order."""
    made = []
    for i, (stratum, tier) in enumerate(strata):
        account = create_account(session)
        secret = secrets.token_bytes(32)
        digest = lottery.entry_hash(str(wave.id), secret)
        entry = Entry(
            id=new_id(),
            wave_id=wave.id,
            applicant_id=uuid.uuid4(),
            account_id=account.id,
            stratum=stratum,
            regency=stratum if len(stratum) == 4 else stratum + "01",
            joined_at=start + timedelta(minutes=i),
            consent_at=start + timedelta(minutes=i),
            entry_secret=secret.hex(),
            entry_hash=bytes.fromhex(digest),
            status=status,
            tier=tier if status is not EntryStatus.joined else None,
            active=True,
            note="",
        )
        session.add(entry)
        made.append(Made(entry.id, account.id, entry.applicant_id, secret, digest, stratum, tier))
    session.flush()
    return made
