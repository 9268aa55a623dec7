"""Demo data for the portals: the demo institution's and platform's legal entities, contacts, a document, a
trainer, and the demo's ``institution`` and ``platform`` logins linked to them (so each lands on its own portal).
Idempotent: an organisation that already has people is left as it is."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.partners import service as partners
from prakerja.partners.errors import NotAMember

PLATFORM_PROVINCES = [
    "11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36",
    "51", "52", "53", "61", "62", "63", "64", "65", "71", "72", "73",
]  # fmt: skip
"""27 provinces: above the two-thirds requirement."""


def _linked(session: Session, email: str) -> bool:
    account = auth.account_by_email(session, email)
    if account is None:
        return True  # nothing to link
    try:
        partners.membership(session, account.id)
    except NotAMember:
        return False
    return True


def seed(
    session: Session,
    *,
    institution_id: uuid.UUID,
    platform_id: uuid.UUID,
    institution_email: str,
    platform_email: str,
    actor: Actor | None = None,
) -> None:
    actor = actor or Actor.system()
    if not _linked(session, institution_email):
        partners.update_profile(
            session,
            partner_id=institution_id,
            legal_name="Yayasan Nusantara Digital Edukasi",
            registration_number="9120301234567",
            address="Jl. Gatot Subroto No. 12, Jakarta Selatan",
            provinces=[],
            owner_type="private",
            actor=actor,
        )
        partners.add_contact(
            session,
            partner_id=institution_id,
            name="Dewi Anggraini",
            email="dewi@nusantara-digital.example",
            phone="+62 811-1000-2000",
            position="Direktur",
            actor=actor,
        )
        partners.add_document(
            session, partner_id=institution_id, kind="deed", reference="Akta No. 12/2019", actor=actor
        )
        partners.add_trainer(
            session, partner_id=institution_id, name="Pelatih Demo", qualification="Sertifikat BNSP", actor=actor
        )
        partners.add_member(session, partner_id=institution_id, email=institution_email, role="admin", actor=actor)
    if not _linked(session, platform_email):
        partners.update_profile(
            session,
            partner_id=platform_id,
            legal_name="PT Platform Belajar Demo",
            registration_number="9120307654321",
            address="Jl. Asia Afrika No. 8, Bandung",
            provinces=PLATFORM_PROVINCES,
            owner_type="",
            actor=actor,
        )
        partners.add_contact(
            session,
            partner_id=platform_id,
            name="Bayu Pratama",
            email="bayu@platform-belajar.example",
            phone="+62 812-3000-4000",
            position="PIC teknis",
            actor=actor,
        )
        partners.add_member(session, partner_id=platform_id, email=platform_email, role="admin", actor=actor)
