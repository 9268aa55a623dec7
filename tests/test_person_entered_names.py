"""Every person-entered name refuses control characters, bidi overrides and zero-width characters (Unicode
categories Cc and Cf among others, ``kit.text``): a right-to-left override makes ``Budi\u202eartsinimdA`` read as
"BudiAdministra", a zero-width space makes two equal-looking names differ."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth.models import Account, Role
from prakerja.auth.service import create_account
from prakerja.kit.errors import DomainError
from prakerja.partners import service as partners
from prakerja.partners.models import PartnerOrganisation
from prakerja.registration import rules
from prakerja.registration.service import checks

INVISIBLE = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200c", "\u200d", "\u200e", "\u00ad", "\ufeff", "\x07", "\x1b"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_sign_up_and_staff_names(session: Session, char: str) -> None:
    from prakerja.auth import rules as auth_rules

    assert [p.code for p in auth_rules.name_problems(f"Siti{char}Rahma")] == ["name_invalid_characters"]
    with pytest.raises(DomainError):
        create_account(
            session, email="a@example.org", password="kata-sandi-rahasia", role=Role.pmo_officer,
            display_name=f"Petugas{char}",
        )  # fmt: skip
    assert session.scalar(select(func.count()).select_from(Account)) == 0


@pytest.mark.parametrize("char", INVISIBLE)
def test_applicant_names_and_addresses(char: str) -> None:
    assert [e.code for e in rules.validate_name(f"Siti{char}Rahma")] == ["name_invalid_characters"]
    problems = checks.text_problems(
        "ktp_address", f"Jl. Mawar{char} 1", required=True, max_length=200, label_id="Alamat", label_en="Address"
    )
    assert [p.code for p in problems] == ["ktp_address_invalid_characters"]


@pytest.mark.parametrize("char", INVISIBLE)
def test_partner_names(session: Session, char: str) -> None:
    with pytest.raises(DomainError) as refused:
        partners.create_partner(session, name=f"Badan{char}Negara", role="ministry", actor=Actor.system())
    assert refused.value.status_code == 422 and "name" in refused.value.details["fields"]
    assert session.scalar(select(func.count()).select_from(PartnerOrganisation)) == 0


def test_ordinary_names_still_pass(session: Session) -> None:
    from prakerja.auth import rules as auth_rules

    assert auth_rules.name_problems("Nur'aini Siti-Aisyah, S.Kom") == []
    assert rules.validate_name("Nur'aini Siti-Aisyah") == []
    partners.create_partner(session, name="Badan Kepegawaian Negara", role="ministry", actor=Actor.system())
