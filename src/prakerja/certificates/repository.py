"""Every query on the certificates tables."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.certificates.models import STATUS_INDEX_SEQUENCE, Certificate, SigningKey


def lock_completion(session: Session, completion_id: uuid.UUID) -> None:
    """Serialise issuing for one completion (a retried call waits for the first, then finds its certificate)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"certificates:{completion_id}"}
    )


def by_completion(session: Session, completion_id: uuid.UUID) -> Certificate | None:
    return session.scalars(select(Certificate).where(Certificate.completion_id == completion_id)).one_or_none()


def get(session: Session, certificate_id: uuid.UUID, *, for_update: bool = False) -> Certificate | None:
    query = select(Certificate).where(Certificate.id == certificate_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def next_status_index(session: Session) -> int:
    return int(session.execute(select(STATUS_INDEX_SEQUENCE.next_value())).scalar_one())


def max_status_index(session: Session) -> int | None:
    value = session.execute(select(func.max(Certificate.status_index))).scalar_one()
    return int(value) if value is not None else None


def revoked_indexes(session: Session, start: int, stop: int) -> list[int]:
    rows = session.scalars(
        select(Certificate.status_index).where(
            Certificate.revoked_at.is_not(None), Certificate.status_index >= start, Certificate.status_index < stop
        )
    )
    return [int(value) for value in rows]


def add(session: Session, row: Certificate | SigningKey) -> None:
    session.add(row)
    session.flush()


def keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at, SigningKey.id)))


def active_key(session: Session) -> SigningKey | None:
    query = (
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None))
        .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())
        .limit(1)
    )
    return session.scalars(query).one_or_none()


def get_key(session: Session, key_id: str) -> SigningKey | None:
    return session.get(SigningKey, key_id)


def insert_key_if_absent(session: Session, key_id: str, public_key_multibase: str, created_at: object) -> None:
    session.execute(
        insert(SigningKey)
        .values(id=key_id, public_key_multibase=public_key_multibase, created_at=created_at)
        .on_conflict_do_nothing()
    )


def lock_keys(session: Session) -> None:
    session.execute(text("LOCK TABLE certificates_keys IN SHARE ROW EXCLUSIVE MODE"))


def retire_keys_except(session: Session, key_id: str, at: object) -> None:
    session.execute(
        update(SigningKey).where(SigningKey.retired_at.is_(None), SigningKey.id != key_id).values(retired_at=at)
    )
