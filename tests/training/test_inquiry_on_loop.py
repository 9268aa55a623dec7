"""The card inquiry on the loop frame (ADR 0021): ``inquiry_on_loop`` answers as ``inquiry`` does (the same card,
the same refusals), and over HTTP its idempotent replay sends the same bytes, and a refusal writes nothing but the
signature record and its row in the log of refused calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.idempotency.models import IdempotencyRecord
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
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
