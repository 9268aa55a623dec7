"""Every query on the partner tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.partners.models import PartnerCredential, PartnerKey, PartnerOrganisation, RateWindow, SeenSignature


def remember(session: Session, credential_id: uuid.UUID, signature: bytes, expires_at: datetime) -> bool:
    """True when the signature is new; False when another request already brought it (any process)."""
    inserted = session.execute(
        insert(SeenSignature)
        .values(credential_id=credential_id, signature=signature, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(SeenSignature.credential_id)
    ).first()
    return inserted is not None


def purge(session: Session, now: datetime) -> int:
    result = session.execute(delete(SeenSignature).where(SeenSignature.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


def hit_rate_window(session: Session, credential_id: uuid.UUID, window_start: datetime) -> int:
    """Count one request in the credential's window (atomic across processes); returns the window's count."""
    statement = insert(RateWindow).values(credential_id=credential_id, window_start=window_start, hits=1)
    return int(
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[RateWindow.credential_id, RateWindow.window_start],
                set_={"hits": RateWindow.hits + 1},
            ).returning(RateWindow.hits)
        ).scalar_one()
    )


def purge_rate_windows(session: Session, before: datetime) -> int:
    result = session.execute(delete(RateWindow).where(RateWindow.window_start < before))
    return int(getattr(result, "rowcount", 0) or 0)


def add(session: Session, obj: PartnerOrganisation | PartnerCredential | PartnerKey) -> None:
    session.add(obj)
    session.flush()


def partner(session: Session, partner_id: uuid.UUID, *, lock: bool = False) -> PartnerOrganisation | None:
    query = select(PartnerOrganisation).where(PartnerOrganisation.id == partner_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def partner_by_name(session: Session, name: str) -> PartnerOrganisation | None:
    return session.scalars(select(PartnerOrganisation).where(PartnerOrganisation.name == name)).first()


def partners(session: Session) -> list[PartnerOrganisation]:
    return list(session.scalars(select(PartnerOrganisation).order_by(PartnerOrganisation.name)))


def credential_by_code(session: Session, client_code: str, *, lock: bool = False) -> PartnerCredential | None:
    query = select(PartnerCredential).where(PartnerCredential.client_code == client_code)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def credentials_of(session: Session, partner_ids: list[uuid.UUID]) -> list[PartnerCredential]:
    return list(
        session.scalars(
            select(PartnerCredential)
            .where(PartnerCredential.partner_id.in_(partner_ids))
            .order_by(PartnerCredential.created_at)
        )
    )


def key(session: Session, key_id: uuid.UUID, *, lock: bool = False) -> PartnerKey | None:
    query = select(PartnerKey).where(PartnerKey.id == key_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def keys_of(session: Session, credential_ids: list[uuid.UUID]) -> list[PartnerKey]:
    return list(
        session.scalars(
            select(PartnerKey).where(PartnerKey.credential_id.in_(credential_ids)).order_by(PartnerKey.created_at)
        )
    )


def signing_rows(
    session: Session, client_code: str
) -> tuple[PartnerCredential, PartnerOrganisation, list[PartnerKey]] | None:
    """The credential, its organisation and its keys (decrypted on load): two queries per request."""
    row = session.execute(
        select(PartnerCredential, PartnerOrganisation)
        .join(PartnerOrganisation, PartnerOrganisation.id == PartnerCredential.partner_id)
        .where(PartnerCredential.client_code == client_code)
    ).first()
    if row is None:
        return None
    credential, organisation = row
    return credential, organisation, keys_of(session, [credential.id])
