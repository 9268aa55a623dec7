"""Linking a payout account through the partner's inquiry and OTP, over real HTTP against the payments simulator:
linked only when active, same NIK, and for an e-wallet KYC'd with the registered phone; wrong codes counted and
limited; re-linking replaces; a partner that cannot be reached changes nothing; every number a partner answered for
is an integrity signal, so one account tried by several NIKs is flagged for officers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja.audit.models import AuditEntry
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.payouts import rules, tasks
from prakerja.payouts.models import AccountFailure, AccountStatus, PayoutAccount, PayoutProvider
from prakerja.payouts.service import accounts, entitlements
from prakerja.registration.models import IntegrityFlag, Signal
from prakerja.registration.service import integrity
from tests.payouts.conftest import PaymentsSim
from tests.payouts.paylink_factories import (
    SYSTEM,
    Person,
    count,
    last_otp,
    make_person,
    open_at_partner,
    register_providers,
)


@pytest.fixture
def providers(session: Session, payments_sim: PaymentsSim) -> dict[str, PayoutProvider]:
    return register_providers(session, payments_sim)


def start(session: Session, person: Person, provider: PayoutProvider, number: str) -> PayoutAccount:
    link = accounts.start_link(
        session, account_id=person.account_id, provider_id=provider.id, number=number, actor=SYSTEM
    )
    session.commit()
    return link


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


class TestLinkBank:
    def test_inquiry_then_the_partners_otp_makes_it_active(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="0011223344", holder_name="Siti", nik=person.nik, phone="0800")
        link = start(session, person, providers["bni"], "0011223344")
        assert (link.status, link.failure_reason, link.number_masked) == (AccountStatus.otp_sent, None, "******3344")
        done = accounts.verify_link(
            session,
            account_id=person.account_id,
            link_id=link.id,
            otp=last_otp(payments_sim, "bni", "0011223344"),
            actor=SYSTEM,
        )
        session.commit()
        assert (done.wrong_code, done.account.status) == (False, AccountStatus.active)
        assert done.account.linked_at is not None
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {"payouts.account_inquired", "payouts.account_linked"} <= actions

    def test_relinking_replaces_the_active_account(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="1111111111", holder_name="Siti", nik=person.nik, phone="0")
        open_at_partner(payments_sim, "ovo", number=person.phone, holder_name="Siti", nik=person.nik)
        first = start(session, person, providers["bni"], "1111111111")
        accounts.verify_link(
            session,
            account_id=person.account_id,
            link_id=first.id,
            otp=last_otp(payments_sim, "bni", "1111111111"),
            actor=SYSTEM,
        )
        session.commit()
        second = start(session, person, providers["ovo"], "+62" + person.phone[1:])
        assert second.number == person.phone  # kept as 08...
        accounts.verify_link(
            session,
            account_id=person.account_id,
            link_id=second.id,
            otp=last_otp(payments_sim, "ovo", person.phone),
            actor=SYSTEM,
        )
        session.commit()
        session.expire_all()
        statuses = {a.id: a.status for a in accounts.accounts_of(session, person.recipient_id)}
        assert statuses == {first.id: AccountStatus.replaced, second.id: AccountStatus.active}


class TestRefusedByThePartnersAnswer:
    @pytest.mark.parametrize(
        ("opened", "failure"),
        [
            ({"nik": "other"}, AccountFailure.nik_mismatch),
            ({"kyc": False}, AccountFailure.ewallet_not_kyc),
            ({"phone": "081299999999"}, AccountFailure.phone_mismatch),
            ({"active": False}, AccountFailure.account_inactive),
            (None, AccountFailure.account_not_found),
        ],
    )
    def test_ewallet_rejected_with_the_reason_and_no_otp(
        self,
        session: Session,
        payments_sim: PaymentsSim,
        providers: dict[str, PayoutProvider],
        opened: dict[str, object] | None,
        failure: AccountFailure,
    ) -> None:
        person = make_person(session)
        if opened is not None:
            fields = {"number": person.phone, "holder_name": "Siti", "nik": person.nik, **opened}
            if fields["nik"] == "other":
                fields["nik"] = "3171010101900009"
            open_at_partner(payments_sim, "ovo", **fields)
        link = start(session, person, providers["ovo"], person.phone)
        assert (link.status, link.failure_reason) == (AccountStatus.rejected, failure)
        assert httpx.get(f"{payments_sim.base('ovo')}/sim/outbox").json() == []
        with pytest.raises(DomainError) as refused:
            accounts.verify_link(session, account_id=person.account_id, link_id=link.id, otp="123456", actor=SYSTEM)
        assert (refused.value.status_code, refused.value.code) == (409, "link_not_awaiting_otp")


class TestOtpAttempts:
    def test_wrong_codes_are_counted_and_limited(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="2222222222", holder_name="Siti", nik=person.nik, phone="0")
        link = start(session, person, providers["bni"], "2222222222")
        bad = wrong(last_otp(payments_sim, "bni", "2222222222"))
        for attempt in range(1, rules.OTP_ATTEMPTS + 1):
            outcome = accounts.verify_link(
                session, account_id=person.account_id, link_id=link.id, otp=bad, actor=SYSTEM
            )
            session.commit()
            assert outcome.wrong_code and outcome.account.otp_attempts == attempt
        assert (outcome.account.status, outcome.account.failure_reason) == (
            AccountStatus.rejected,
            AccountFailure.otp_failed,
        )
        assert accounts.active_account(session, person.recipient_id) is None

    def test_a_malformed_code_is_refused_without_asking_the_partner(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="3333333333", holder_name="Siti", nik=person.nik, phone="0")
        link = start(session, person, providers["bni"], "3333333333")
        with pytest.raises(DomainError) as refused:
            accounts.verify_link(session, account_id=person.account_id, link_id=link.id, otp="12ab", actor=SYSTEM)
        assert (refused.value.status_code, refused.value.code) == (422, "otp_format_invalid")
        session.rollback()
        assert session.get(PayoutAccount, link.id).otp_attempts == 0  # type: ignore[union-attr]


class TestRefusalsWriteNothing:
    def test_partner_unavailable_at_the_otp_check(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="4545454545", holder_name="Siti", nik=person.nik, phone="0")
        link = start(session, person, providers["bni"], "4545454545")
        code = last_otp(payments_sim, "bni", "4545454545")
        providers["bni"].api_base_url = "http://127.0.0.1:9/bni"  # the partner goes away between the two steps
        session.commit()
        with pytest.raises(DomainError) as refused:
            accounts.verify_link(session, account_id=person.account_id, link_id=link.id, otp=code, actor=SYSTEM)
        assert (refused.value.status_code, refused.value.code) == (503, "partner_unavailable")
        session.rollback()
        again = session.get(PayoutAccount, link.id)
        assert again is not None and (again.status, again.otp_attempts) == (AccountStatus.otp_sent, 0)
        assert accounts.active_account(session, person.recipient_id) is None

    def test_partner_unavailable(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="4444444444", holder_name="Siti", nik=person.nik, phone="0")
        assert httpx.post(f"{payments_sim.base('bni')}/sim/faults", json={"server_error": 1}).status_code == 200
        with pytest.raises(DomainError) as refused:
            start(session, person, providers["bni"], "4444444444")
        assert (refused.value.status_code, refused.value.code) == (503, "partner_unavailable")
        assert count(session, PayoutAccount) == 0
        assert count(session, Signal, kind="payout_account") == 0

    def test_partner_unreachable(self, session: Session, payments_sim: PaymentsSim) -> None:
        person = make_person(session)
        down = accounts.register_provider(
            session,
            name="Bank Mati",
            code="mati",
            kind="bank",
            channel="api",
            api_base_url="http://127.0.0.1:9/mati",
            actor=SYSTEM,
        )
        session.commit()
        with pytest.raises(DomainError) as refused:
            start(session, person, down, "5555555555")
        assert (refused.value.status_code, refused.value.code) == (503, "partner_unavailable")
        assert count(session, PayoutAccount) == 0

    @pytest.mark.parametrize("number", ["12ab", "123", "0812 34"])
    def test_bad_numbers(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider], number: str
    ) -> None:
        person = make_person(session)
        with pytest.raises(DomainError) as refused:
            start(session, person, providers["ovo"], number)
        assert (refused.value.status_code, refused.value.code) == (422, "account_number_invalid")
        assert count(session, PayoutAccount) == 0

    def test_too_many_inquiries_in_a_day(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        for n in range(rules.LINKS_PER_DAY):
            assert start(session, person, providers["bni"], f"90000000{n:02d}").status is AccountStatus.rejected
        with pytest.raises(DomainError) as refused:
            start(session, person, providers["bni"], "9000000099")
        assert (refused.value.status_code, refused.value.code) == (429, "rate_limited")
        assert count(session, PayoutAccount) == rules.LINKS_PER_DAY

    def test_not_a_recipient(self, session: Session, providers: dict[str, PayoutProvider]) -> None:
        from tests.selection.factories import create_account

        stranger = create_account(session)
        session.commit()
        with pytest.raises(DomainError) as refused:
            accounts.start_link(
                session, account_id=stranger.id, provider_id=providers["bni"].id, number="123456789", actor=SYSTEM
            )
        assert (refused.value.status_code, refused.value.code) == (403, "not_a_recipient")
        assert count(session, PayoutAccount) == 0

    def test_provider_registration_is_validated(self, session: Session) -> None:
        with pytest.raises(DomainError) as refused:
            accounts.register_provider(
                session,
                name="Bank X",
                code="BAD CODE",
                kind="cash",
                channel="fax",
                api_base_url="ftp://x",
                actor=SYSTEM,
            )
        assert (refused.value.status_code, refused.value.code) == (422, "provider_invalid")
        assert set(refused.value.details["fields"]) == {"code", "kind", "channel", "api_base_url"}
        session.rollback()
        assert count(session, PayoutProvider) == 0


class TestSharedAccountSignal:
    def test_one_account_tried_by_three_niks_is_flagged(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        owner = make_person(session)
        open_at_partner(payments_sim, "bni", number="9988776655", holder_name="Siti", nik=owner.nik, phone="0")
        people = [owner, make_person(session), make_person(session)]
        outcomes = [start(session, p, providers["bni"], "9988776655") for p in people]
        assert [o.status for o in outcomes] == [AccountStatus.otp_sent, AccountStatus.rejected, AccountStatus.rejected]
        assert len({o.number_index for o in outcomes}) == 1
        signals = session.scalars(select(Signal).where(Signal.kind == "payout_account")).all()
        assert {s.applicant_id for s in signals} == {p.applicant_id for p in people}
        assert len({bytes(s.value_index) for s in signals}) == 1
        integrity.scan(session)
        session.commit()
        flags = session.scalars(select(IntegrityFlag).where(IntegrityFlag.kind == "shared_payout_account")).all()
        assert {f.applicant_id for f in flags} == {p.applicant_id for p in people}


class TestStaleOtp:
    """A link whose OTP was never confirmed does not wait forever: after the partner's OTP lifetime it is rejected
    as ``otp_expired`` (by the job, or when the participant comes back), and the incentive waits for an account."""

    def test_the_job_expires_a_link_left_waiting_for_its_otp(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="0011223355", holder_name="Siti", nik=person.nik, phone="0800")
        link = start(session, person, providers["bni"], "0011223355")
        assert tasks.expire_stale_links() == 0  # still within the partner's OTP lifetime
        with clock.frozen(clock.now() + rules.OTP_LIFETIME + timedelta(seconds=1)):
            assert tasks.expire_stale_links() == 1
            assert tasks.expire_stale_links() == 0
        session.expire_all()
        row = session.get(PayoutAccount, link.id)
        assert row is not None and (row.status, row.failure_reason) == (
            AccountStatus.rejected,
            AccountFailure.otp_expired,
        )
        assert entitlements.account_state(row) == "none"  # no account was refused: none is linked yet

    def test_a_code_typed_after_the_lifetime_expires_the_link_without_asking_the_partner(
        self, session: Session, payments_sim: PaymentsSim, providers: dict[str, PayoutProvider]
    ) -> None:
        person = make_person(session)
        open_at_partner(payments_sim, "bni", number="0011223366", holder_name="Siti", nik=person.nik, phone="0800")
        link = start(session, person, providers["bni"], "0011223366")
        code = last_otp(payments_sim, "bni", "0011223366")
        with clock.frozen(clock.now() + rules.OTP_LIFETIME + timedelta(seconds=1)):
            done = accounts.verify_link(session, account_id=person.account_id, link_id=link.id, otp=code, actor=SYSTEM)
            session.commit()
        assert done.wrong_code and (done.account.status, done.account.failure_reason) == (
            AccountStatus.rejected,
            AccountFailure.otp_expired,
        )
        assert {s.status for s in payments_sim.simulator.partners["bni"].links.values()} == {"otp_sent"}
