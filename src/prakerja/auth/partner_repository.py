"""Every query on the partner tables."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.auth.partner_models import PartnerCredential, PartnerKey, PartnerOrganisation


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
