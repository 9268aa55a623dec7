"""The KK's region against the KTP address's regency (issue 4: "the KK's region agrees").

Policy (docs/registration.md): a disagreement raises the integrity flag ``kk_region_mismatch`` for review with
field-level messages; it never refuses the form, because a regency split off after the card was issued keeps
the parent's code and a family that moved may not have a re-issued card yet."""

from __future__ import annotations

import datetime
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.registration.models import IntegrityFlag
from prakerja.registration.service import checks, identity, integrity
from tests.registration.factories import make_kk, make_nik
from tests.registration.test_wizard import post

# fmt: off
CASES = [
    # description, KK, KTP regency (None: not known), expected codes
    ("KK from Bogor, KTP address in Bogor", "3201012003150004", "3201", []),
    ("KK from Bogor, KTP address in Denpasar (another province)", "3201012003150004", "5171", ["kk_region_mismatch"]),
    ("KK from Bogor, KTP address in Bandung (same province)", "3201012003150004", "3204", ["kk_region_mismatch"]),
    ("KK from Merauke before the 2022 split (9101), KTP address now 9301", "9101012003150004", "9301", []),
    ("KTP regency not known (domicile elsewhere)", "3201012003150004", None, []),
    ("KTP regency unknown code: the address field's problem", "3201012003150004", "9999", []),
    ("malformed KK: the KK field's own refusal, not this check", "32010120", "3201", []),
]
# fmt: on


@pytest.mark.parametrize(("kk", "ktp_regency", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_case_table(kk: str, ktp_regency: str | None, expected: list[str]) -> None:
    problems = checks.kk_region_problems(kk=kk, ktp_regency=ktp_regency)
    assert [p.code for p in problems] == expected
    for problem in problems:
        assert problem.field == "kk"
        assert "KTP" in problem.message_id and "KTP" in problem.message_en
        assert problem.message_id != problem.message_en
        assert kk[:4] not in problem.message_id + problem.message_en  # the number itself is never echoed


def new_account(session: Session) -> uuid.UUID:
    account = auth.create_account(
        session,
        email=f"a-{uuid.uuid4().hex[:8]}@example.org",
        password="kata-sandi-rahasia",
        role=Role.applicant,
        display_name="Siti",
    )
    return account.id


def flags(session: Session) -> list[IntegrityFlag]:
    session.flush()
    return list(session.scalars(select(IntegrityFlag).where(IntegrityFlag.kind == "kk_region_mismatch")))


class TestFlag:
    def _identity(self, session: Session, account_id: uuid.UUID, *, kk_regency: str = "3201") -> None:
        identity.save_identity(
            session,
            account_id=account_id,
            nik=make_nik(regency="3201", birth_date=datetime.date(1995, 5, 17)),
            kk=make_kk(regency=kk_regency),
            birth_date="1995-05-17",
            sex="M",
        )

    def _address(self, session: Session, account_id: uuid.UUID, district: str, domicile_address: str = "") -> None:
        identity.save_address(
            session,
            account_id=account_id,
            ktp_address="Jl. Melati No. 5",
            domicile_address=domicile_address,
            domicile_district=district,
        )

    def test_mismatch_flagged_for_review_not_refused(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id)
        self._address(session, account_id, "517101")  # Denpasar Selatan; no other domicile: KTP address is there
        (flag,) = flags(session)
        assert flag.detail["kk_regency"] == "3201" and flag.detail["ktp_regency"] == "5171"
        assert flag.detail["same_province"] is False and flag.detail["field"] == "kk"
        assert flag.detail["message_id"].startswith("Wilayah pada nomor KK")
        assert flag.detail["message_en"].startswith("The region in the family card")
        assert flag in integrity.open_flags(session)

    def test_fixing_the_address_withdraws_the_unreviewed_flag(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id)
        self._address(session, account_id, "517101")
        assert len(flags(session)) == 1
        self._address(session, account_id, "320101")
        assert flags(session) == []

    def test_fixing_the_kk_withdraws_it_too(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id, kk_regency="5171")
        self._address(session, account_id, "320101")
        assert len(flags(session)) == 1
        self._identity(session, account_id, kk_regency="3201")
        assert flags(session) == []

    def test_no_comparison_when_the_ktp_region_is_not_known(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id)
        self._address(session, account_id, "517101", domicile_address="Jl. Kenanga 9, Denpasar")
        assert flags(session) == []

    def test_ktp_region_elsewhere_flagged_although_the_domicile_agrees_with_the_kk(self, session: Session) -> None:
        # The case missed while only the domicile had region codes: the KK and the domicile are in Bogor, the
        # KTP address (printed from the KK) in Denpasar. The comparison is with the KTP address, not the domicile.
        account_id = new_account(session)
        self._identity(session, account_id, kk_regency="3201")
        identity.save_address(
            session,
            account_id=account_id,
            ktp_address="Jl. Melati No. 5, Denpasar",
            ktp_district="517101",
            domicile_address="Jl. Kenanga 9, Bogor",
            domicile_district="320101",
        )
        (flag,) = flags(session)
        assert flag.detail["kk_regency"] == "3201" and flag.detail["ktp_regency"] == "5171"
        assert flag.reviewed_at is None and flag in integrity.open_flags(session)

    def test_ktp_region_agreeing_with_the_kk_raises_nothing_wherever_one_lives(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id, kk_regency="3201")
        identity.save_address(
            session,
            account_id=account_id,
            ktp_address="Jl. Melati No. 5, Bogor",
            ktp_district="320101",
            domicile_address="Jl. Kenanga 9, Denpasar",
            domicile_district="517101",
        )
        assert flags(session) == []

    def test_domicile_same_as_ktp_compares_the_one_region(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id, kk_regency="3201")
        identity.save_address(
            session, account_id=account_id, ktp_address="Jl. Melati 5", ktp_district="320101", domicile_same_as_ktp=True
        )
        assert flags(session) == []
        identity.save_address(
            session, account_id=account_id, ktp_address="Jl. Melati 5", ktp_district="517101", domicile_same_as_ktp=True
        )
        assert [f.detail["ktp_regency"] for f in flags(session)] == ["5171"]

    def test_the_older_call_without_a_ktp_district_still_works(self, session: Session) -> None:
        # callers that ask only the domicile's district: it is the KTP district when the domicile is the KTP
        # address, and unknown (no comparison) otherwise
        account_id = new_account(session)
        self._identity(session, account_id)
        self._address(session, account_id, "517101")
        applicant = identity.find(session, account_id)
        assert applicant is not None and (applicant.ktp_district, applicant.ktp_regency) == ("517101", "5171")
        self._address(session, account_id, "517101", domicile_address="Jl. Kenanga 9, Denpasar")
        assert (applicant.ktp_district, applicant.ktp_regency, applicant.ktp_province) == (None, None, None)
        assert flags(session) == []

    def test_a_reviewed_flag_stays_as_history(self, session: Session) -> None:
        account_id = new_account(session)
        self._identity(session, account_id)
        self._address(session, account_id, "517101")
        (flag,) = flags(session)
        integrity.review_flag(session, flag_id=flag.id, actor=Actor.system(), note="pindah, KK lama")
        self._address(session, account_id, "517101")
        self._address(session, account_id, "320101")
        (kept,) = flags(session)
        assert kept.id == flag.id and kept.reviewed_at is not None


def test_wizard_address_step_still_succeeds(applicant_client: TestClient, session: Session) -> None:
    from tests.registration.test_wizard import complete_identity
    from tests.registration.test_wizard import identity as identity_form

    complete_identity(applicant_client)
    kk = identity_form()["kk"]
    other = "517101" if not kk.startswith("51") else "320101"
    address = {"ktp_address": "Jl. Melati No. 5", "ktp_district": other, "domicile_same": "ya"}
    assert post(applicant_client, "alamat", address).status_code == 303
    session.rollback()
    assert [f.detail["ktp_regency"] for f in flags(session)] == [other[:4]]


def test_wizard_flags_the_ktp_region_when_the_domicile_is_the_kks(
    applicant_client: TestClient, session: Session
) -> None:
    from tests.registration.test_wizard import complete_identity
    from tests.registration.test_wizard import identity as identity_form

    complete_identity(applicant_client)
    kk = identity_form()["kk"]
    other = "517101" if not kk.startswith("51") else "320101"
    address = {
        "ktp_address": "Jl. Melati No. 5",
        "ktp_district": other,
        "domicile_same": "tidak",
        "domicile_address": "Jl. Kenanga 9",
        "domicile_district": f"{kk[:4]}01",
    }
    assert post(applicant_client, "alamat", address).status_code == 303  # a flag for review, not a refusal
    session.rollback()
    assert [(f.detail["kk_regency"], f.detail["ktp_regency"]) for f in flags(session)] == [(kk[:4], other[:4])]
