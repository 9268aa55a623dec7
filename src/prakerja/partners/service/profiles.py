"""Organisations as the program office designates them: the legal entity, provinces reached (platforms), contacts,
documents, trainers (institutions), and the people (signed-in accounts) who work for them in their portal.
Takes a session; never commits. Every change is audited with the officer as actor; personal data (contacts' and
trainers' names, e-mails, phones, the address) is stored encrypted and never written to the audit log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.kit.clock import utcnow
from prakerja.partners import repository, rules
from prakerja.partners.errors import (
    MemberExists,
    MemberInvalid,
    NotAMember,
    PartnerDelisted,
    PartnerNotDesignated,
    PartnerNotFound,
    ProfileInvalid,
    ProfileItemNotFound,
    StatusReasonRequired,
)
from prakerja.partners.models import (
    MemberRole,
    OwnerType,
    PartnerContact,
    PartnerDocument,
    PartnerMember,
    PartnerOrganisation,
    PartnerProfile,
    PartnerRole,
    PartnerStatus,
    PartnerTrainer,
)
from prakerja.partners.service.credentials import set_status
from prakerja.registration.service.regions import province_names

ACCOUNT_ROLE = {
    PartnerRole.institution: Role.institution,
    PartnerRole.platform: Role.platform,
    PartnerRole.payment_partner: Role.payment_partner,
}
"""The account role a member of an organisation of each partner role must have (ministries have no portal)."""


@dataclass(frozen=True)
class ContactView:
    id: uuid.UUID
    name: str
    email: str
    phone: str
    position: str


@dataclass(frozen=True)
class DocumentView:
    id: uuid.UUID
    kind: str
    reference: str
    added_at: datetime


@dataclass(frozen=True)
class TrainerView:
    id: uuid.UUID
    name: str
    qualification: str


@dataclass(frozen=True)
class MemberView:
    id: uuid.UUID
    account_id: uuid.UUID
    role: MemberRole
    display_name: str
    added_at: datetime


@dataclass(frozen=True)
class Reach:
    """Provinces a platform reaches against the program's two-thirds requirement."""

    reached: int
    required: int
    total: int

    @property
    def met(self) -> bool:
        return self.reached >= self.required


@dataclass(frozen=True)
class Membership:
    """The organisation a signed-in account works for."""

    partner_id: uuid.UUID
    name: str
    role: PartnerRole
    status: PartnerStatus
    member_role: MemberRole

    @property
    def designated(self) -> bool:
        return self.status == PartnerStatus.active


@dataclass(frozen=True)
class ProfileView:
    partner_id: uuid.UUID
    name: str
    role: PartnerRole
    status: PartnerStatus
    status_reason: str
    status_changed_at: datetime | None
    legal_name: str
    registration_number: str
    address: str
    provinces: tuple[str, ...]
    owner_type: OwnerType | None
    contacts: tuple[ContactView, ...]
    documents: tuple[DocumentView, ...]
    trainers: tuple[TrainerView, ...]
    members: tuple[MemberView, ...]
    reach: Reach | None
    """Platforms only."""


def _partner(session: Session, partner_id: uuid.UUID) -> PartnerOrganisation:
    found = repository.partner(session, partner_id)
    if found is None:
        raise PartnerNotFound()
    return found


def _reach(provinces: list[str]) -> Reach:
    total = len(province_names())
    return Reach(reached=len(provinces), required=rules.reach_required(total), total=total)


def profile(session: Session, partner_id: uuid.UUID) -> ProfileView:
    """The organisation with its profile and people (personal data decrypted: officer and member pages only)."""
    partner = _partner(session, partner_id)
    found = repository.profile(session, partner_id)
    provinces = list(found.provinces) if found is not None else []
    members = []
    for m in repository.current_rows(session, PartnerMember, partner_id):
        account = auth.get_account(session, m.account_id)
        members.append(MemberView(m.id, m.account_id, m.role, account.display_name if account else "?", m.created_at))
    return ProfileView(
        partner_id=partner.id,
        name=partner.name,
        role=partner.role,
        status=partner.status,
        status_reason=partner.status_reason,
        status_changed_at=partner.status_changed_at,
        legal_name=found.legal_name if found else "",
        registration_number=found.registration_number if found else "",
        address=found.address if found else "",
        provinces=tuple(provinces),
        owner_type=found.owner_type if found else None,
        contacts=tuple(
            ContactView(c.id, c.name, c.email, c.phone, c.position)
            for c in repository.current_rows(session, PartnerContact, partner_id)
        ),
        documents=tuple(
            DocumentView(d.id, d.kind, d.reference, d.created_at)
            for d in repository.current_rows(session, PartnerDocument, partner_id)
        ),
        trainers=tuple(
            TrainerView(t.id, t.name, t.qualification)
            for t in repository.current_rows(session, PartnerTrainer, partner_id)
        ),
        members=tuple(members),
        reach=_reach(provinces) if partner.role == PartnerRole.platform else None,
    )


def update_profile(
    session: Session,
    *,
    partner_id: uuid.UUID,
    legal_name: str,
    registration_number: str,
    address: str,
    provinces: list[str],
    owner_type: str,
    actor: audit.Actor,
) -> PartnerProfile:
    """Write the legal entity: name, NIB (13 digits), address; provinces reached (platforms); owner type
    (institutions). Empty fields are allowed while the file is being completed; wrong ones are refused."""
    partner = _partner(session, partner_id)
    problems: dict[str, str] = {}
    legal = rules.clean_text(legal_name, 200)
    if legal is None:
        problems["legal_name"] = "up to 200 characters, no < or >"
    nib = registration_number.strip()
    if nib and not rules.valid_nib(nib):
        problems["registration_number"] = "13 digits (NIB)"
    where = rules.clean_text(address, 500)
    if where is None:
        problems["address"] = "up to 500 characters, no < or >"
    known = province_names()
    codes = sorted(set(provinces))
    if any(code not in known for code in codes):
        problems["provinces"] = "Kemendagri province codes"
    if owner_type and owner_type not in OwnerType.__members__:
        problems["owner_type"] = f"one of {', '.join(OwnerType)}"
    if problems:
        raise ProfileInvalid(details={"fields": problems})
    row = repository.profile(session, partner_id, lock=True)
    if row is None:
        row = PartnerProfile(partner_id=partner.id, address="", provinces=[], updated_at=utcnow())
        repository.add_row(session, row)
    row.legal_name, row.registration_number, row.address = legal or "", nib, where or ""
    row.provinces = codes if partner.role == PartnerRole.platform else []
    row.owner_type = OwnerType(owner_type) if owner_type and partner.role == PartnerRole.institution else None
    row.updated_at, row.updated_by = utcnow(), actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "partners.profile_updated",
        "partner",
        partner.id,
        data={
            "legal_name": row.legal_name,
            "registration_number": nib,
            "provinces": row.provinces,
            "owner_type": row.owner_type.value if row.owner_type else None,
        },
    )
    return row


def add_contact(
    session: Session, *, partner_id: uuid.UUID, name: str, email: str, phone: str, position: str, actor: audit.Actor
) -> PartnerContact:
    partner = _partner(session, partner_id)
    problems: dict[str, str] = {}
    clean_name = rules.clean_text(name, 200)
    if not clean_name or len(clean_name) < 2:
        problems["contact_name"] = "2-200 characters"
    email = email.strip()
    if not rules.valid_email(email):
        problems["contact_email"] = "an e-mail address"
    phone = phone.strip()
    if not rules.valid_phone(phone):
        problems["contact_phone"] = "a phone number"
    clean_position = rules.clean_text(position, 100)
    if clean_position is None:
        problems["contact_position"] = "up to 100 characters"
    if problems:
        raise ProfileInvalid(details={"fields": problems})
    contact = PartnerContact(
        partner_id=partner.id, name=clean_name or "", email=email, phone=phone, position=clean_position or ""
    )
    repository.add_row(session, contact)
    audit.record(session, actor, "partners.contact_added", "partner", partner.id, data={"contact_id": str(contact.id)})
    return contact


def add_document(
    session: Session, *, partner_id: uuid.UUID, kind: str, reference: str, actor: audit.Actor
) -> PartnerDocument:
    partner = _partner(session, partner_id)
    problems: dict[str, str] = {}
    if kind not in rules.DOCUMENT_KINDS:
        problems["document_kind"] = f"one of {', '.join(rules.DOCUMENT_KINDS)}"
    clean = rules.clean_text(reference, 200)
    if not clean or len(clean) < 2:
        problems["document_reference"] = "2-200 characters"
    if problems:
        raise ProfileInvalid(details={"fields": problems})
    document = PartnerDocument(partner_id=partner.id, kind=kind, reference=clean or "", added_by=actor.id)
    repository.add_row(session, document)
    audit.record(
        session,
        actor,
        "partners.document_added",
        "partner",
        partner.id,
        data={"document_id": str(document.id), "kind": kind, "reference": document.reference},
    )
    return document


def add_trainer(
    session: Session, *, partner_id: uuid.UUID, name: str, qualification: str, actor: audit.Actor
) -> PartnerTrainer:
    partner = _partner(session, partner_id)
    problems: dict[str, str] = {}
    if partner.role != PartnerRole.institution:
        problems["trainer_name"] = "institutions only"
    clean_name = rules.clean_text(name, 200)
    if not clean_name or len(clean_name) < 2:
        problems["trainer_name"] = "2-200 characters"
    clean_qualification = rules.clean_text(qualification, 300)
    if not clean_qualification or len(clean_qualification) < 2:
        problems["trainer_qualification"] = "2-300 characters"
    if problems:
        raise ProfileInvalid(details={"fields": problems})
    trainer = PartnerTrainer(partner_id=partner.id, name=clean_name or "", qualification=clean_qualification or "")
    repository.add_row(session, trainer)
    audit.record(session, actor, "partners.trainer_added", "partner", partner.id, data={"trainer_id": str(trainer.id)})
    return trainer


def remove_item(session: Session, *, kind: str, item_id: uuid.UUID, actor: audit.Actor) -> uuid.UUID:
    """Remove a contact, document or trainer (kept, marked removed). Returns the organisation's id."""
    found: PartnerContact | PartnerDocument | PartnerTrainer | None = None
    if kind == "contact":
        found = repository.row(session, PartnerContact, item_id, lock=True)
    elif kind == "document":
        found = repository.row(session, PartnerDocument, item_id, lock=True)
    elif kind == "trainer":
        found = repository.row(session, PartnerTrainer, item_id, lock=True)
    if found is None or found.removed_at is not None:
        raise ProfileItemNotFound()
    found.removed_at = utcnow()
    session.flush()
    audit.record(
        session, actor, f"partners.{kind}_removed", "partner", found.partner_id, data={f"{kind}_id": str(item_id)}
    )
    return found.partner_id


# --- people -------------------------------------------------------------------------------------------------


def add_member(session: Session, *, partner_id: uuid.UUID, email: str, role: str, actor: audit.Actor) -> PartnerMember:
    """Link the account with this e-mail to the organisation. The account's role must match the organisation's
    (an institution's people have institution accounts); an account works for one organisation at a time."""
    partner = _partner(session, partner_id)
    if role not in MemberRole.__members__:
        raise MemberInvalid(details={"fields": {"member_role": f"one of {', '.join(MemberRole)}"}})
    account = auth.account_by_email(session, email.strip()) if email.strip() else None
    if account is None or account.role != ACCOUNT_ROLE.get(partner.role):
        # the same answer for an unknown e-mail and a wrong role: the page does not reveal who has an account
        raise MemberInvalid(details={"field": "member_email"})
    if repository.membership_of_account(session, account.id) is not None:
        raise MemberExists(details={"field": "member_email"})
    member = PartnerMember(account_id=account.id, partner_id=partner.id, role=MemberRole(role), added_by=actor.id)
    repository.add_row(session, member)
    audit.record(
        session,
        actor,
        "partners.member_added",
        "partner",
        partner.id,
        data={"member_id": str(member.id), "account_id": str(account.id), "role": role},
    )
    return member


def remove_member(session: Session, *, member_id: uuid.UUID, actor: audit.Actor) -> uuid.UUID:
    found = repository.row(session, PartnerMember, member_id, lock=True)
    if found is None or found.removed_at is not None:
        raise ProfileItemNotFound()
    found.removed_at, found.removed_by = utcnow(), actor.id
    session.flush()
    audit.record(
        session,
        actor,
        "partners.member_removed",
        "partner",
        found.partner_id,
        data={"member_id": str(found.id), "account_id": str(found.account_id)},
    )
    return found.partner_id


def membership(session: Session, account_id: uuid.UUID) -> Membership:
    """The organisation this account works for; ``NotAMember`` (403) when it is linked to none."""
    found = repository.membership_of_account(session, account_id)
    partner = repository.partner(session, found.partner_id) if found is not None else None
    if found is None or partner is None:
        raise NotAMember()
    return Membership(partner.id, partner.name, partner.role, partner.status, found.role)


def require_designated(found: Membership) -> None:
    """A suspended or delisted organisation reads its portal but changes nothing."""
    if not found.designated:
        raise PartnerNotDesignated(details={"status": found.status.value})


def change_designation(
    session: Session, *, partner_id: uuid.UUID, status: str, reason: str, actor: audit.Actor
) -> PartnerOrganisation:
    """The officer's status action: designate (``active``), suspend or delist, always with a reason. Delisted is
    final. Credentials stay as they are: a suspended or delisted organisation's signed calls are refused."""
    if not " ".join(reason.split()):
        raise StatusReasonRequired(details={"field": "reason"})
    current = _partner(session, partner_id)
    if current.status == PartnerStatus.delisted:
        raise PartnerDelisted()
    return set_status(session, partner_id=partner_id, status=status, actor=actor, reason=reason)
