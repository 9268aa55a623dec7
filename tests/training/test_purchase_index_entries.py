"""What a complete purchase (card inquiry, creation, confirmation) adds to the indexes of its own tables (ADR 0044,
migration 0042_mrows): 64 entries a purchase (70 before: the purchases' index by account twice, and the two
training events' records of the partners' webhook events), and what was removed left every reader and guarantee
in place. The signed frame's tables (signatures, rate windows, stored answers) are not counted here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja.partners.models import WebhookEvent
from prakerja.training.models import Purchase, TrainingEvent
from prakerja.training.service import ratings
from tests.training.conftest import Api, Participant, last_otp, make_participant

TABLES = (
    "training_purchases",
    "training_redeem_codes",
    "training_events",
    "ledger_accounts",
    "ledger_transfers",
    "audit_entries",
    "audit_links",
    "audit_head",
    "notifications_messages",
    "procrastinate_jobs",
    "procrastinate_events",
    "partner_webhook_events",
)


def _entries(session: Session) -> dict[str, int]:
    """Every B-tree index of the purchase's tables, with the entries its leaf pages hold (live and dead: what was
    written), read with ``pageinspect``."""
    session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    names = session.execute(
        text(
            "SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'btree' AND i.indrelid::regclass::text = ANY(:t)"
        ),
        {"t": list(TABLES)},
    ).scalars()
    found = {}
    for name in names:
        pages = session.execute(text("SELECT pg_relation_size(CAST(:i AS regclass)) / 8192"), {"i": name}).scalar_one()
        found[name] = int(
            session.execute(
                text(
                    "SELECT coalesce(sum(s.live_items + s.dead_items), 0) FROM generate_series(1, :last) AS b,"
                    " LATERAL bt_page_stats(:i, b) AS s WHERE s.type = 'l'"
                ),
                {"i": name, "last": pages - 1},
            ).scalar_one()
        )
    session.commit()
    return found


def _buy(api: Api, session: Session, platform: Any, course: Any, participant: Participant, order: str) -> str:
    assert api.inquiry(platform, participant.card_number).status_code == 200
    created = api.buy(platform, participant.card_number, course.id, account=f"akun-{order}", order=order)
    assert created.status_code == 201, created.text
    purchase_id = str(created.json()["purchase_id"])
    confirmed = api.confirm(platform, purchase_id, last_otp(session, participant.account_id))
    assert confirmed.status_code == 200, confirmed.text
    session.commit()
    return purchase_id


def test_a_purchase_writes_sixty_four_index_entries(
    api: Api, session: Session, platform: Any, course: Any, participant: Participant
) -> None:
    # a first purchase makes what every later one finds (the institution's payable account, the audit head)
    _buy(api, session, platform, course, participant, "order-1")
    other = make_participant(session)
    session.commit()
    before = _entries(session)
    _buy(api, session, platform, course, other, "order-2")
    after = _entries(session)
    written = {name: after[name] - before[name] for name in after if after[name] != before[name]}
    assert written == {
        # the purchase: inserted (6), then its confirmed version (not HOT: the status and the voucher are indexed)
        "pk_training_purchases": 2,
        "uq_training_purchases_pending_transfer_id": 2,
        "uq_training_purchases_institution_id_id": 2,
        "ix_training_purchases_participant_id_status": 2,
        "ix_training_purchases_platform_id_platform_account_index": 2,
        "ix_training_purchases_otp_sent_expires_at": 1,
        "uq_training_purchases_voucher_code": 1,
        # five redeem codes
        "pk_training_redeem_codes": 5,
        "uq_training_redeem_codes_code": 5,
        "uq_training_redeem_codes_purchase_id_session_id": 5,
        "ix_training_redeem_codes_session_id": 5,
        # the reserve transfer (the two accounts' new balances are HOT updates: no entry)
        "pk_ledger_transfers": 1,
        "ix_ledger_transfers_debit_account_id_seq": 1,
        "ix_ledger_transfers_credit_account_id_seq": 1,
        "ix_ledger_transfers_timeout_at": 1,
        # three audit entries and their links (the head's moves are HOT)
        "pk_audit_entries": 3,
        "ix_audit_entries_actor_id": 3,
        "ix_audit_entries_object_type_object_id": 3,
        "pk_audit_links": 3,
        "uq_audit_links_entry_id": 3,
        # the one-time code's SMS, its job and the job's `deferred` event (procrastinate's indexes)
        "pk_notifications_messages": 1,
        "ix_notifications_messages_account_id": 1,
        "procrastinate_jobs_pkey": 1,
        "procrastinate_jobs_id_lock_idx_v1": 1,
        "procrastinate_jobs_priority_idx_v1": 1,
        "procrastinate_jobs_queue_name_idx_v1": 1,
        "procrastinate_jobs_queueing_lock_idx_v1": 1,
        "procrastinate_events_pkey": 1,
        "procrastinate_events_job_id_fkey_v1": 1,
        # the confirmation's event, one for the platform and one for the institution
        "pk_partner_webhook_events": 2,
        "uq_partner_webhook_events_partner_id_webhook_id": 2,
    }
    assert sum(written.values()) == 64


def test_the_event_is_recorded_once_as_the_partners_webhook_event(
    api: Api, session: Session, platform: Any, course: Any, participant: Participant
) -> None:
    purchase_id = _buy(api, session, platform, course, participant, "order-1")
    events = session.scalars(select(WebhookEvent).order_by(WebhookEvent.partner_id)).all()
    assert sorted(str(e.partner_id) for e in events) == sorted([str(platform.partner_id), str(course.institution_id)])
    for event in events:
        assert event.type == "purchase.confirmed" and event.webhook_id.startswith("purchase.confirmed:")
        assert f'"data":{{"purchase_id":"{purchase_id}"}}' in event.body
    assert session.scalar(select(func.count()).select_from(TrainingEvent)) == 0


def test_an_accounts_trainings_are_found_without_an_index_by_account(
    api: Api, session: Session, platform: Any, course: Any, participant: Participant
) -> None:
    indexes = session.execute(
        text("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'training_purchases'::regclass")
    ).scalars()
    assert "ix_training_purchases_account_id" not in set(indexes)
    purchase_id = _buy(api, session, platform, course, participant, "order-1")
    other = make_participant(session)
    session.commit()
    _buy(api, session, platform, course, other, "order-2")
    mine = ratings.my_trainings(session, participant.account_id)
    assert [str(v.purchase_id) for v in mine] == [purchase_id]
    assert session.get(Purchase, mine[0].purchase_id).account_id == participant.account_id  # type: ignore[union-attr]
    nobody = make_participant(session)
    assert ratings.my_trainings(session, nobody.account_id) == []
