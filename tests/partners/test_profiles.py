"""Organisations' profiles and people: designation lifecycle (delisted is final), every change audited, personal
data encrypted at rest, accounts linked to one organisation of their own kind."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.kit.errors import DomainError
from prakerja.partners import rules
from prakerja.partners import service as partners
from prakerja.partners.models import PartnerContact, PartnerMember, PartnerProfile
from tests.partners.conftest import create_partner
from tests.web.test_shell import create_account

OFFICER = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000c1"), role="pmo_admin")


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def refused(code: str, call, *args, **kwargs) -> DomainError:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code
    return caught.value


class TestDesignation:
    def test_suspend_reactivate_delist_and_delisted_is_final(self, session: Session) -> None:
        partner = create_partner(session, name="Platform Belajar Uji", role="platform")
        partners.change_designation(
            session, partner_id=partner.partner_id, status="suspended", reason="Laporan keuangan telat", actor=OFFICER
        )
        assert partners.signing_credential(session, partner.client_code).usable is False  # type: ignore[union-attr]
        partners.change_designation(
            session, partner_id=partner.partner_id, status="active", reason="Laporan diterima", actor=OFFICER
        )
        assert partners.signing_credential(session, partner.client_code).usable is True  # type: ignore[union-attr]
        partners.change_designation(
            session, partner_id=partner.partner_id, status="delisted", reason="Pelanggaran berat", actor=OFFICER
        )
        session.commit()
        found = partners.profile(session, partner.partner_id)
        assert found.status == partners.PartnerStatus.delisted and found.status_reason == "Pelanggaran berat"
        assert partners.signing_credential(session, partner.client_code).usable is False  # type: ignore[union-attr]
        for status in ("active", "suspended"):
            refused(
                "partner_delisted",
                partners.change_designation,
                session,
                partner_id=partner.partner_id,
                status=status,
                reason="coba lagi",
                actor=OFFICER,
            )
            refused(
                "partner_delisted",
                partners.set_status,
                session,
                partner_id=partner.partner_id,
                status=status,
                actor=Actor.system(),
            )
        session.rollback()
        assert actions(session)[-3:] == ["auth.partner_suspended", "auth.partner_reactivated", "auth.partner_delisted"]
        reasons = session.scalars(select(AuditEntry.reason).order_by(AuditEntry.seq)).all()
        assert reasons[-1] == "Pelanggaran berat"

    def test_a_reason_is_required_and_nothing_changes_without_one(self, session: Session) -> None:
        partner = create_partner(session, name="Lembaga Uji", role="institution")
        before = len(actions(session))
        refused(
            "status_reason_required",
            partners.change_designation,
            session,
            partner_id=partner.partner_id,
            status="suspended",
            reason="  ",
            actor=OFFICER,
        )
        refused(
            "status_reason_required",
            partners.set_status,
            session,
            partner_id=partner.partner_id,
            status="delisted",
            actor=OFFICER,
        )
        session.rollback()
        assert partners.profile(session, partner.partner_id).status == partners.PartnerStatus.active
        assert len(actions(session)) == before


class TestProfile:
    def test_platform_profile_with_reach_and_encrypted_contacts(self, session: Session) -> None:
        partner = create_partner(session, name="Platform Belajar Uji", role="platform")
        partners.update_profile(
            session,
            partner_id=partner.partner_id,
            legal_name="PT Belajar Uji Indonesia",
            registration_number="9120001234567",
            address="Jl. Sudirman No. 1, Jakarta",
            provinces=["31", "32", "51", "32"],
            owner_type="university",  # ignored: only institutions have an owner type
            actor=OFFICER,
        )
        partners.add_contact(
            session,
            partner_id=partner.partner_id,
            name="Rina Kartika",
            email="rina.kartika@belajar.example",
            phone="+62 812-9876-5432",
            position="Direktur",
            actor=OFFICER,
        )
        session.commit()
        found = partners.profile(session, partner.partner_id)
        assert found.legal_name == "PT Belajar Uji Indonesia" and found.provinces == ("31", "32", "51")
        assert found.owner_type is None
        assert found.reach is not None and found.reach.reached == 3 and not found.reach.met
        assert found.reach.required == rules.reach_required(found.reach.total) and found.reach.total >= 34
        assert [(c.name, c.email, c.phone) for c in found.contacts] == [
            ("Rina Kartika", "rina.kartika@belajar.example", "+62 812-9876-5432")
        ]
        raw = session.execute(
            text(
                "SELECT encode(name, 'escape') || encode(email, 'escape') || encode(phone, 'escape')"
                " FROM partner_contacts"
            )
        ).scalar_one()
        assert "Rina" not in raw and "rina.kartika" not in raw and "9876" not in raw
        address = session.execute(text("SELECT encode(address, 'escape') FROM partner_profiles")).scalar_one()
        assert "Sudirman" not in address
        audit_data = " ".join(session.scalars(text("SELECT data::text || reason FROM audit_entries")).all())
        assert "Rina" not in audit_data and "rina.kartika" not in audit_data and "9876" not in audit_data
        assert actions(session)[-2:] == ["partners.profile_updated", "partners.contact_added"]

    def test_institution_owner_type_documents_and_trainers(self, session: Session) -> None:
        partner = create_partner(session, name="Lembaga Uji", role="institution")
        partners.update_profile(
            session,
            partner_id=partner.partner_id,
            legal_name="Yayasan Lembaga Uji",
            registration_number="",
            address="",
            provinces=["31"],
            owner_type="government",
            actor=OFFICER,
        )
        document = partners.add_document(
            session, partner_id=partner.partner_id, kind="deed", reference="Akta No. 12/2020", actor=OFFICER
        )
        trainer = partners.add_trainer(
            session, partner_id=partner.partner_id, name="Budi Santoso", qualification="BNSP", actor=OFFICER
        )
        partners.remove_item(session, kind="document", item_id=document.id, actor=OFFICER)
        session.commit()
        found = partners.profile(session, partner.partner_id)
        assert found.owner_type == partners.OwnerType.government and found.provinces == () and found.reach is None
        assert found.documents == () and [(t.id, t.name) for t in found.trainers] == [(trainer.id, "Budi Santoso")]
        raw = session.execute(text("SELECT encode(name, 'escape') FROM partner_trainers")).scalar_one()
        assert "Budi" not in raw
        assert actions(session)[-4:] == [
            "partners.profile_updated",
            "partners.document_added",
            "partners.trainer_added",
            "partners.document_removed",
        ]

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"registration_number": "12345"}, "registration_number"),
            ({"provinces": ["99"]}, "provinces"),
            ({"owner_type": "mafia"}, "owner_type"),
            ({"legal_name": "<script>"}, "legal_name"),
        ],
    )
    def test_bad_profile_refused_and_nothing_written(self, session: Session, fields: dict, field: str) -> None:  # type: ignore[type-arg]
        partner = create_partner(session, name="Lembaga Uji", role="institution")
        values = {"legal_name": "Yayasan", "registration_number": "", "address": "", "provinces": [], "owner_type": ""}
        error = refused(
            "partner_profile_invalid",
            partners.update_profile,
            session,
            partner_id=partner.partner_id,
            actor=OFFICER,
            **{**values, **fields},
        )
        assert field in error.details["fields"]
        session.rollback()
        assert session.scalar(select(func.count()).select_from(PartnerProfile)) == 0

    def test_bad_contact_refused(self, session: Session) -> None:
        partner = create_partner(session, name="Lembaga Uji", role="institution")
        error = refused(
            "partner_profile_invalid",
            partners.add_contact,
            session,
            partner_id=partner.partner_id,
            name="R",
            email="bukan-email",
            phone="12",
            position="",
            actor=OFFICER,
        )
        assert set(error.details["fields"]) == {"contact_name", "contact_email", "contact_phone"}
        session.rollback()
        assert session.scalar(select(func.count()).select_from(PartnerContact)) == 0


class TestMembers:
    def test_link_an_account_of_the_same_kind_once(self, session: Session) -> None:
        institution = create_partner(session, name="Lembaga Uji", role="institution")
        other = create_partner(session, name="Lembaga Lain", role="institution")
        create_account(session, email="staf@lembaga.example", role=Role.institution, name="Staf Lembaga")
        create_account(session, email="staf@platform.example", role=Role.platform, name="Staf Platform")
        member = partners.add_member(
            session, partner_id=institution.partner_id, email="staf@lembaga.example", role="admin", actor=OFFICER
        )
        session.commit()
        found = partners.membership(session, member.account_id)
        assert (found.partner_id, found.name, found.designated) == (institution.partner_id, "Lembaga Uji", True)
        assert [m.display_name for m in partners.profile(session, institution.partner_id).members] == ["Staf Lembaga"]
        refused(
            "partner_member_exists",
            partners.add_member,
            session,
            partner_id=other.partner_id,
            email="staf@lembaga.example",
            role="admin",
            actor=OFFICER,
        )
        for email in ("staf@platform.example", "tidak.ada@example.org"):
            refused(
                "partner_member_invalid",
                partners.add_member,
                session,
                partner_id=institution.partner_id,
                email=email,
                role="staff",
                actor=OFFICER,
            )
        session.rollback()
        partners.remove_member(session, member_id=member.id, actor=OFFICER)
        session.commit()
        refused("partner_not_a_member", partners.membership, session, member.account_id)
        assert session.scalar(select(func.count()).select_from(PartnerMember)) == 1
        assert actions(session)[-2:] == ["partners.member_added", "partners.member_removed"]

    def test_a_suspended_organisation_reads_but_changes_nothing(self, session: Session) -> None:
        institution = create_partner(session, name="Lembaga Uji", role="institution")
        create_account(session, email="staf@lembaga.example", role=Role.institution, name="Staf Lembaga")
        member = partners.add_member(
            session, partner_id=institution.partner_id, email="staf@lembaga.example", role="staff", actor=OFFICER
        )
        partners.change_designation(
            session, partner_id=institution.partner_id, status="suspended", reason="Audit", actor=OFFICER
        )
        found = partners.membership(session, member.account_id)
        refused("partner_not_designated", partners.require_designated, found)


def test_reach_rule() -> None:
    assert rules.reach_required(38) == 26 and rules.reach_required(34) == 23 and rules.reach_required(3) == 2
    assert rules.status_change_allowed("active", "suspended") and rules.status_change_allowed("suspended", "active")
    assert not rules.status_change_allowed("delisted", "active") and not rules.status_change_allowed("active", "active")
