"""An institution's or platform's settlement account: verified by the bank's account inquiry (active, held under the
organisation's legal entity), encrypted at rest, audited; a change replaces the verified account and is verified
again; bad input and an unreachable bank are refused with their code and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.kit.errors import DomainError
from prakerja.partners import service as partners
from prakerja.payouts.models import (
    PayoutProvider,
    SettlementAccount,
    SettlementAccountFailure,
    SettlementAccountStatus,
)
from prakerja.payouts.service import settlements
from tests.partners.conftest import Partner, create_partner
from tests.payouts.conftest import PaymentsSim
from tests.payouts.settle_factories import (
    INSTITUTION_NAME,
    INSTITUTION_NUMBER,
    bank_otp,
    open_bank_account,
    record_confirmed,
)
from tests.payouts.test_run_paying import provider_at

OFFICER = Actor(id=None, role="pmo_admin")


@pytest.fixture
def institution(session: Session) -> Partner:
    return create_partner(session, name=INSTITUTION_NAME, role="institution")


@pytest.fixture
def bank(session: Session, payments_sim: PaymentsSim) -> PayoutProvider:
    found = provider_at(session, payments_sim, "bni")
    session.commit()
    return found


def record(
    session: Session, institution: Partner, provider: PayoutProvider, number: str, sim: PaymentsSim | None = None
) -> SettlementAccount:
    """Record the account; with the simulated bank given, enter the OTP it sent when the inquiry passed."""
    if sim is not None:
        return record_confirmed(
            session, sim, organisation_id=institution.partner_id, provider_id=provider.id, number=number
        )
    account = settlements.record_account(
        session, organisation_id=institution.partner_id, provider_id=provider.id, number=number, actor=OFFICER
    )
    session.commit()
    return account


def accounts(session: Session) -> list[tuple[SettlementAccountStatus, SettlementAccountFailure | None]]:
    rows = session.scalars(select(SettlementAccount).order_by(SettlementAccount.created_at)).all()
    return [(a.status, a.failure_reason) for a in rows]


class TestVerification:
    def test_an_account_held_by_the_legal_entity_is_verified_encrypted_and_audited(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="LEMBAGA PELATIHAN, UJI")
        account = record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        assert (account.status, account.number_masked) == (SettlementAccountStatus.verified, "******0001")
        raw = session.execute(text("SELECT number, holder_name FROM payouts_settlement_accounts")).one()
        assert INSTITUTION_NUMBER.encode() not in bytes(raw[0]) and b"Lembaga" not in bytes(raw[1])
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "payouts.settlement_account_recorded")
        ).one()
        assert entry.object_id == str(institution.partner_id)
        assert entry.data["status"] == "otp_sent" and entry.data["number"] == "******0001"
        confirmed = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "payouts.settlement_account_confirmed")
        ).one()
        assert confirmed.data["number"] == "******0001"
        assert INSTITUTION_NUMBER not in str(entry.data)
        view = settlements.of_organisation(session, institution.partner_id)
        assert view.account is not None and view.account.status == "verified" and view.account.bank == "Mitra BNI"

    def test_the_holder_must_be_the_legal_entity_on_the_profile(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        partners.update_profile(
            session,
            partner_id=institution.partner_id,
            legal_name="PT Lembaga Pelatihan Uji Nusantara",
            registration_number="",
            address="",
            provinces=[],
            owner_type="",
            actor=OFFICER,
        )
        session.commit()
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name="Lembaga Pelatihan Uji")
        refused = record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        assert (refused.status, refused.failure_reason) == (
            SettlementAccountStatus.rejected,
            SettlementAccountFailure.name_mismatch,
        )
        open_bank_account(payments_sim, number="9876500001", holder_name="PT. LEMBAGA PELATIHAN UJI NUSANTARA")
        assert record(session, institution, bank, "9876500001", payments_sim).status is SettlementAccountStatus.verified

    def test_unknown_and_inactive_accounts_are_refused_with_the_reason(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        record(session, institution, bank, "5555500001", payments_sim)
        open_bank_account(payments_sim, number="5555500002", holder_name=INSTITUTION_NAME, active=False)
        record(session, institution, bank, "5555500002", payments_sim)
        assert accounts(session) == [
            (SettlementAccountStatus.rejected, SettlementAccountFailure.account_not_found),
            (SettlementAccountStatus.rejected, SettlementAccountFailure.account_inactive),
        ]
        view = settlements.of_organisation(session, institution.partner_id)
        assert view.account is not None and view.account.reason is not None
        assert view.account.reason[0] == "Rekening ini tidak aktif."

    def test_a_change_replaces_the_verified_account_and_is_verified_again(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name=INSTITUTION_NAME)
        record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        open_bank_account(payments_sim, number="7777700001", holder_name="Orang Lain")
        record(session, institution, bank, "7777700001", payments_sim)
        assert accounts(session) == [
            (SettlementAccountStatus.replaced, None),
            (SettlementAccountStatus.rejected, SettlementAccountFailure.name_mismatch),
        ]
        record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        assert accounts(session)[-1] == (SettlementAccountStatus.verified, None)


class TestBankOtp:
    """ADR 0026: an account the inquiry found is confirmed by the OTP the bank sends to its holder before anything is
    paid into it (before, the inquiry alone verified it: anyone knowing a number and a name could point the
    organisation's payments at it)."""

    def test_the_account_waits_for_the_banks_otp_and_the_verified_one_stays_until_then(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name=INSTITUTION_NAME)
        record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        open_bank_account(payments_sim, number="7777700002", holder_name=INSTITUTION_NAME)
        pending = record(session, institution, bank, "7777700002")
        assert pending.status is SettlementAccountStatus.otp_sent
        assert accounts(session) == [(SettlementAccountStatus.verified, None), (SettlementAccountStatus.otp_sent, None)]
        view = settlements.of_organisation(session, institution.partner_id)
        assert view.account is not None and view.account.status == "otp_sent"

        wrong = "000000" if bank_otp(payments_sim, "7777700002") != "000000" else "111111"
        refused = settlements.confirm_account(session, organisation_id=institution.partner_id, otp=wrong, actor=OFFICER)
        session.commit()
        assert refused.wrong_code and refused.account.status is SettlementAccountStatus.otp_sent
        with pytest.raises(DomainError) as malformed:
            settlements.confirm_account(session, organisation_id=institution.partner_id, otp="12ab", actor=OFFICER)
        assert malformed.value.code == "otp_format_invalid"
        session.rollback()

        done = settlements.confirm_account(
            session, organisation_id=institution.partner_id, otp=bank_otp(payments_sim, "7777700002"), actor=OFFICER
        )
        session.commit()
        assert not done.wrong_code
        assert accounts(session) == [(SettlementAccountStatus.replaced, None), (SettlementAccountStatus.verified, None)]
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("payouts.settlement_%"))).all()
        assert actions.count("payouts.settlement_account_otp_refused") == 1
        assert actions.count("payouts.settlement_account_confirmed") == 2
        with pytest.raises(DomainError) as nothing:
            settlements.confirm_account(session, organisation_id=institution.partner_id, otp="123456", actor=OFFICER)
        assert (nothing.value.code, nothing.value.status_code) == ("settlement_account_not_awaiting_otp", 409)

    def test_too_many_wrong_codes_lock_it_and_the_account_is_refused_with_the_reason(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name=INSTITUTION_NAME)
        record(session, institution, bank, INSTITUTION_NUMBER)
        wrong = "000000" if bank_otp(payments_sim, INSTITUTION_NUMBER) != "000000" else "111111"
        for _ in range(5):
            result = settlements.confirm_account(
                session, organisation_id=institution.partner_id, otp=wrong, actor=OFFICER
            )
            session.commit()
            assert result.wrong_code
        assert accounts(session) == [(SettlementAccountStatus.rejected, SettlementAccountFailure.otp_failed)]
        view = settlements.of_organisation(session, institution.partner_id)
        assert view.account is not None and view.account.reason is not None
        assert view.account.reason[0].startswith("Terlalu banyak kode OTP yang salah")


class TestRefusals:
    @pytest.mark.parametrize("number", ["12-34", "abcdefgh", "1" * 21])
    def test_a_malformed_number_is_refused_and_nothing_is_written(
        self, session: Session, institution: Partner, bank: PayoutProvider, number: str
    ) -> None:
        with pytest.raises(DomainError) as refused:
            record(session, institution, bank, number)
        assert (refused.value.code, refused.value.status_code) == ("account_number_invalid", 422)
        session.rollback()
        assert accounts(session) == []

    def test_an_e_wallet_or_unknown_bank_is_refused(
        self, session: Session, institution: Partner, payments_sim: PaymentsSim
    ) -> None:
        wallet = provider_at(session, payments_sim, "ovo")
        session.commit()
        for provider_id in (wallet.id, None):
            with pytest.raises(DomainError) as refused:
                settlements.record_account(
                    session,
                    organisation_id=institution.partner_id,
                    provider_id=provider_id,
                    number=INSTITUTION_NUMBER,
                    actor=OFFICER,
                )
            assert refused.value.code == "settlement_bank_invalid"
            session.rollback()
        assert accounts(session) == []

    def test_only_institutions_and_platforms_have_settlement_accounts(
        self, session: Session, bank: PayoutProvider
    ) -> None:
        ministry = create_partner(session, name="Badan Kepegawaian Negara", role="ministry")
        with pytest.raises(DomainError) as refused:
            record(session, ministry, bank, INSTITUTION_NUMBER)
        assert (refused.value.code, refused.value.status_code) == ("not_a_settled_organisation", 403)
        session.rollback()
        assert accounts(session) == []

    def test_an_unreachable_bank_changes_nothing(
        self, session: Session, institution: Partner, bank: PayoutProvider, payments_sim: PaymentsSim
    ) -> None:
        open_bank_account(payments_sim, number=INSTITUTION_NUMBER, holder_name=INSTITUTION_NAME)
        record(session, institution, bank, INSTITUTION_NUMBER, payments_sim)
        payments_sim.simulator.partners["bni"].faults["server_error"] = 1.0
        with pytest.raises(DomainError) as refused:
            record(session, institution, bank, "7777700001", payments_sim)
        assert (refused.value.code, refused.value.status_code) == ("partner_unavailable", 503)
        session.rollback()
        assert accounts(session) == [(SettlementAccountStatus.verified, None)]
        assert (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "payouts.settlement_account_recorded")
            )
            == 1
        )
