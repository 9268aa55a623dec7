"""Integrity flags for human review (never automatic rejection): one phone, device, IP or payout account shared
by many NIKs, and bursts of registrations from one IP."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import NotFound
from prakerja.kit.pii import blind_index
from prakerja.registration import repository
from prakerja.registration.models import IntegrityFlag

SIGNAL_KINDS = ("phone", "device", "ip", "payout_account")
SHARED_THRESHOLD = 3
"""This many different applicants using one value raises a flag on each of them."""
BURST_WINDOW = timedelta(minutes=10)
BURST_THRESHOLD = 20
"""This many profiles started from one IP within the window raises ``ip_burst``."""


def record_signal(session: Session, *, applicant_id: uuid.UUID, kind: str, value: str) -> None:
    """Remember (as a blind index) that an applicant used a value; payouts call this for payout accounts."""
    if kind not in SIGNAL_KINDS:
        raise ValueError(f"signal kind must be one of {SIGNAL_KINDS}")
    repository.add_signal(session, applicant_id=applicant_id, kind=kind, value_index=blind_index(value, kind))


def ip_index(ip: str) -> bytes:
    return blind_index(ip, "ip")


def device_index(device: str) -> bytes:
    """The device cookie's blind index: the only form in which a device identifier is stored."""
    return blind_index(device, "device")


def record_use(session: Session, *, applicant_id: uuid.UUID, ip: str | None, device: str | None) -> None:
    """The browser (device cookie) and IP an applicant's identity was sent from."""
    if device:
        repository.add_signal(session, applicant_id=applicant_id, kind="device", value_index=device_index(device))
    if ip:
        repository.add_signal(session, applicant_id=applicant_id, kind="ip", value_index=ip_index(ip))


def scan(session: Session, *, lookback: timedelta = timedelta(days=2)) -> int:
    """Set-based: raise or refresh flags; returns how many rows were written. Safe to run repeatedly."""
    now = utcnow()
    written = repository.flag_shared_signals(session, threshold=SHARED_THRESHOLD, now=now)
    written += repository.flag_bursts(
        session,
        window_seconds=int(BURST_WINDOW.total_seconds()),
        threshold=BURST_THRESHOLD,
        since=now - lookback,
        now=now,
    )
    return written


def flags_for(session: Session, applicant_id: uuid.UUID) -> list[IntegrityFlag]:
    return repository.flags_for(session, applicant_id)


def open_flags(session: Session, limit: int = 100) -> list[IntegrityFlag]:
    return repository.open_flags(session, limit)


def review_flag(session: Session, *, flag_id: uuid.UUID, actor: audit.Actor, note: str) -> IntegrityFlag:
    found = repository.flag(session, flag_id)
    if found is None:
        raise NotFound()
    found.reviewed_at, found.reviewed_by, found.review_note = utcnow(), actor.id, note.strip()[:500]
    audit.record(
        session,
        actor,
        "registration.flag_reviewed",
        "applicant",
        found.applicant_id,
        reason=note.strip()[:500],
        data={"flag": found.kind, "flag_id": str(found.id)},
    )
    return found
