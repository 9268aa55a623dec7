"""The recipient register through its service: selection writes, waves/marketplace/payouts read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.kit.clock import clock
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient, RecipientStatus
from prakerja.waves.models import WaveState
from tests.selection.factories import create_account, create_wave

DEADLINE = datetime(2026, 4, 1, tzinfo=UTC)


def register(session: Session, *, kk: bytes | None = b"\x07" * 32, wave_id: uuid.UUID | None = None) -> Recipient:
    account = create_account(session)
    if wave_id is None:
        wave_id = create_wave(session, state=WaveState.announced, quotas={"3201": 1}).id
    recipient, new = recipients.register(
        session,
        wave_id=wave_id,
        entry_hash=uuid.uuid4().bytes * 2,
        applicant_id=uuid.uuid4(),
        account_id=account.id,
        kk_index=kk,
        scheme_name="2023-normal",
        training_balance=3_500_000,
        funding_transfer_id=uuid.uuid4(),
        first_purchase_deadline=DEADLINE,
    )
    assert new
    return recipient


class TestRegister:
    def test_a_recipient_gets_a_card_found_by_its_number_and_account(self, session: Session) -> None:
        recipient = register(session)
        assert recipient.status is RecipientStatus.active and recipient.funded_at is None
        assert len(recipient.card_number) == 16 and recipient.card_last4 == recipient.card_number[-4:]
        assert recipients.recipient_by_card(session, recipient.card_number) is recipient
        assert recipients.recipient_by_card(session, f" {recipient.card_number} ") is recipient
        assert recipients.recipient_by_account(session, recipient.account_id) is recipient
        assert recipients.is_recipient(session, recipient.applicant_id)

    def test_once_per_lifetime_registering_again_keeps_the_card(self, session: Session) -> None:
        recipient = register(session)
        again, new = recipients.register(
            session,
            wave_id=recipient.wave_id,
            entry_hash=b"\x09" * 32,
            applicant_id=recipient.applicant_id,
            account_id=recipient.account_id,
            kk_index=None,
            scheme_name="2023-normal",
            training_balance=1,
            funding_transfer_id=uuid.uuid4(),
            first_purchase_deadline=DEADLINE,
        )
        assert again is recipient and not new
        assert session.scalar(select(func.count()).select_from(Recipient)) == 1

    def test_an_unknown_or_malformed_card_number_finds_nobody(self, session: Session) -> None:
        register(session)
        assert recipients.recipient_by_card(session, "1111222233334444") is None
        assert recipients.recipient_by_card(session, "not a card") is None

    def test_mark_funded(self, session: Session, frozen_clock: object) -> None:
        recipient = register(session)
        recipients.mark_funded(session, recipient)
        assert recipient.funded_at is not None


class TestFamilyCardsAndStatuses:
    def test_recipients_per_family_card_and_statuses(self, session: Session) -> None:
        first = register(session, kk=b"\x01" * 32)
        second = register(session, kk=b"\x01" * 32, wave_id=first.wave_id)
        other = register(session, kk=b"\x02" * 32, wave_id=first.wave_id)
        register(session, kk=None, wave_id=first.wave_id)
        assert recipients.recipients_per_kk(session, [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32]) == {
            b"\x01" * 32: 2,
            b"\x02" * 32: 1,
        }
        assert recipients.recipients_per_kk(session, []) == {}
        recipients.revoke(session, second.id)
        statuses = recipients.recipient_statuses(session, [first.applicant_id, second.applicant_id, uuid.uuid4()])
        assert statuses == {first.applicant_id: "active", second.applicant_id: "revoked"}
        assert other.status is RecipientStatus.active


class TestRevoke:
    def test_revoking_twice_keeps_the_first_date(self, session: Session, frozen_clock: object) -> None:
        recipient = register(session)
        revoked = recipients.revoke(session, recipient.id)
        assert revoked is recipient and recipient.status is RecipientStatus.revoked
        first = recipient.revoked_at
        assert first == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        clock.freeze(datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
        recipients.revoke(session, recipient.id)
        assert recipient.revoked_at == first and recipient.status is RecipientStatus.revoked

    def test_revoking_nobody_returns_none(self, session: Session) -> None:
        assert recipients.revoke(session, uuid.uuid4()) is None
