"""The card inquiry on the loop frame (ADR 0021): ``inquiry_on_loop`` answers as ``inquiry`` does (the same card,
the same refusals), and over HTTP its idempotent replay sends the same bytes, and a refusal writes nothing but the
signature record and its row in the log of refused calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.partners.models import PartnerRefusal, SeenSignature
from prakerja.recipients import service as recipients
from prakerja.training.service import purchases
from tests.conftest import run_async
from tests.training.conftest import Api, Participant, Partner, make_participant


def answers(session: Session, card_number: str) -> tuple[Any, Any]:
    def sync() -> Any:
        try:
            return purchases.inquiry(session, card_number=card_number)
        except DomainError as error:
            return type(error)
        finally:
            session.rollback()

    async def ask() -> Any:
        async with db.on_loop() as conn:
            try:
                return await purchases.inquiry_on_loop(conn, card_number=card_number)
            except DomainError as error:
                return type(error)

    return run_async(ask()), sync()


class TestInquiryOnLoopTwin:
    def test_same_card(self, session: Session, participant: Participant) -> None:
        loop, sync = answers(session, participant.card_number)
        assert loop == sync and loop.balance > 0 and loop.name_masked == "Ni M**e D**i"
        loop, sync = answers(session, " " + participant.card_number + " ")
        assert loop == sync

    def test_same_refusals(self, session: Session, participant: Participant, frozen_clock: object) -> None:
        unfunded = make_participant(session, funded=False)
        late = make_participant(session, deadline_days=1)
        revoked = make_participant(session)
        recipients.revoke(session, revoked.recipient_id)
        session.commit()
        clock.advance(timedelta(days=2))
        for card, refusal in (
            ("1234567890123456", "CardNotFound"),
            ("12ab", "CardNotFound"),
            (unfunded.card_number, "CardNotActive"),
            (late.card_number, "CardRevoked"),
            (revoked.card_number, "CardRevoked"),
        ):
            loop, sync = answers(session, card)
            assert loop == sync and loop.__name__ == refusal, card

    def test_a_participant_without_a_profile_name(self, session: Session, frozen_clock: object) -> None:
        nameless = make_participant(session, name="")
        loop, sync = answers(session, nameless.card_number)
        assert loop == sync

    def test_the_first_refusal_that_applies(self, session: Session, frozen_clock: object) -> None:
        """A revoked card that was never funded is refused as revoked (checked first), as by ``inquiry``."""
        revoked_unfunded = make_participant(session, funded=False)
        recipients.revoke(session, revoked_unfunded.recipient_id)
        late_unfunded = make_participant(session, funded=False, deadline_days=1)
        session.commit()
        clock.advance(timedelta(days=2))
        for card in (revoked_unfunded.card_number, late_unfunded.card_number):
            loop, sync = answers(session, card)
            assert loop == sync and loop.__name__ == "CardRevoked"

    def test_past_the_deadline_with_a_purchase_the_card_still_answers(
        self, session: Session, participant: Participant, course: object, frozen_clock: object
    ) -> None:
        """The purchases by status read in the same statement: a participant who bought is not past the deadline."""
        session.execute(
            text(
                "INSERT INTO training_purchases (id, created_at, recipient_id, participant_id, account_id, course_id,"
                " institution_id, platform_id, platform_order_id, platform_account_index, amount, refunded_amount,"
                " status, otp_hash, otp_expires_at, otp_attempts, pending_transfer_id, cancel_reason)"
                " SELECT :id, now(), :recipient, :participant, :account, c.id, c.institution_id, l.platform_id, 'o-1',"
                " '\\x00', 1, 0, 'confirmed', '\\x00', now(), 0, :pending, '' FROM catalog_courses c"
                " JOIN catalog_listings l ON l.course_id = c.id LIMIT 1"
            ),
            {
                "id": new_id(),
                "recipient": participant.recipient_id,
                "participant": participant.applicant_id,
                "account": participant.account_id,
                "pending": new_id(),
            },
        )
        session.commit()
        clock.advance(timedelta(days=40))
        loop, sync = answers(session, participant.card_number)
        assert loop == sync and loop.status == "active"

    def test_one_statement_and_none_for_a_card_number_of_the_wrong_shape(
        self, session: Session, participant: Participant
    ) -> None:
        async def ask(card: str) -> tuple[Any, list[str]]:
            sent: list[str] = []

            def log(record: Any) -> None:
                if not any(mark in record.query for mark in ("typeinfo_tree", "'jit'")):
                    sent.append(record.query)

            async with db.on_loop() as conn:
                conn.add_query_logger(log)
                try:
                    try:
                        return await purchases.inquiry_on_loop(conn, card_number=card), sent
                    except DomainError as error:
                        return type(error), sent
                finally:
                    conn.remove_query_logger(log)

        answer, sent = run_async(ask(participant.card_number))
        assert answer.balance > 0 and len(sent) == 1 and "selection_recipients" in sent[0]
        answer, sent = run_async(ask("12ab"))
        assert answer.__name__ == "CardNotFound" and sent == []
        answer, sent = run_async(ask("1234567890123456"))
        assert answer.__name__ == "CardNotFound" and len(sent) == 1


def signatures(session: Session) -> int:
    session.rollback()
    return int(session.scalar(select(func.count()).select_from(SeenSignature)) or 0)


class TestInquiryOnTheLoopFrame:
    def test_a_replay_sends_the_same_bytes(
        self, api: Api, session: Session, platform: Partner, participant: Participant
    ) -> None:
        first = api.call(
            "POST", "/partner/v1/cards/inquiry", platform, {"card_number": participant.card_number}, key="k1"
        )
        again = api.call(
            "POST", "/partner/v1/cards/inquiry", platform, {"card_number": participant.card_number}, key="k1"
        )
        assert first.status_code == again.status_code == 200
        assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        session.rollback()
        stored = session.scalars(select(IdempotencyRecord)).one()
        assert stored.response_body == first.content and stored.status_code == 200
        other = api.call("POST", "/partner/v1/cards/inquiry", platform, {"card_number": "1234567890123456"}, key="k1")
        assert other.status_code == 422 and other.json()["code"] == "idempotency_key_mismatch"

    def test_a_refusal_writes_its_signature_and_its_log_row_only(
        self, api: Api, session: Session, platform: Partner, participant: Participant
    ) -> None:
        refusal = api.call("POST", "/partner/v1/cards/inquiry", platform, {"card_number": "1234567890123456"}, key="k2")
        assert refusal.status_code == 404 and refusal.json()["code"] == "card_not_found"
        assert signatures(session) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
        row = session.scalars(select(PartnerRefusal)).one()
        assert (row.code, row.status, row.signed, row.partner_id) == ("card_not_found", 404, True, platform.partner_id)
        assert row.endpoint == "/partner/v1/cards/inquiry" and row.method == "POST"
        # the same key, now for a card that exists: nothing was stored for the refused request, so it runs
        found = api.call(
            "POST", "/partner/v1/cards/inquiry", platform, {"card_number": participant.card_number}, key="k2"
        )
        assert found.status_code == 200

    def test_missing_idempotency_key_and_a_ping(
        self, api: Api, session: Session, platform: Partner, participant: Participant
    ) -> None:
        response, _ = api.client.request(
            "POST", "/partner/v1/cards/inquiry", platform, json={"card_number": participant.card_number}
        )
        assert response.status_code == 400 and response.json()["code"] == "idempotency_key_required"
        ping = api.call("GET", "/partner/v1/ping", platform)
        assert ping.status_code == 200 and ping.json()["role"] == "platform"
        assert signatures(session) == 2
