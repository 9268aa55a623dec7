"""The marketplace benchmark's raw PostgreSQL reference (``benchmarks/raw_purchase.sql``) writes what a purchase
writes: one complete purchase through the signed API (inquiry, creation, confirmation) and one run of the pgbench
script, each on the same database, write rows to the same tables, as many to each (a row counted once when it was
inserted or updated since the mark), so the reference cannot drift away from the app unnoticed."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from benchmarks import raw_purchase
from prakerja.jobs import libpq_conninfo
from tests.training.conftest import Api, Participant, last_otp, make_participant

pytestmark = pytest.mark.skipif(raw_purchase.pgbench_binary() is None, reason="no pgbench binary")


def _mark(engine: Engine) -> int:
    with engine.begin() as conn:
        return int(conn.scalar(text("SELECT txid_current()")) or 0) % 2**32


def _written_since(engine: Engine, mark: int) -> dict[str, int]:
    """Rows per table whose current version a transaction from ``mark`` on wrote (inserted or updated)."""
    with engine.begin() as conn:
        tables = conn.scalars(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'bench_raw_%' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ).all()
        counts = {
            table: int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE xmin::text::bigint >= :m"), {"m": mark}))
            for table in tables
        }
    return {table: n for table, n in counts.items() if n}


def _calls_counted(engine: Engine) -> int:
    """The calls counted in every credential's minutes (the sum of the shards, ADR 0043)."""
    with engine.begin() as conn:
        return int(conn.scalar(text("SELECT coalesce(sum(hits), 0) FROM partner_rate_windows")) or 0)


def _buy(api: Api, session: Session, platform: Any, course: Any, participant: Participant) -> None:
    assert api.inquiry(platform, participant.card_number).status_code == 200
    created = api.buy(platform, participant.card_number, course.id, order="order-raw-1")
    assert created.status_code == 201, created.text
    purchase_id = created.json()["purchase_id"]
    confirmed = api.confirm(platform, purchase_id, last_otp(session, participant.account_id))
    assert confirmed.status_code == 200, confirmed.text


def test_the_raw_script_writes_the_rows_a_purchase_writes(
    api: Api,
    session: Session,
    clean_db: Engine,
    database_url: str,
    platform: Any,
    course: Any,
    participant: Participant,
) -> None:
    # the app's purchase first, on its own participant
    mark, counted = _mark(clean_db), _calls_counted(clean_db)
    _buy(api, session, platform, course, participant)
    ours = _written_since(clean_db, mark)
    ours_counted = _calls_counted(clean_db) - counted

    # the raw script's purchase, by another funded card (the look-up tables list both cards; the first card is
    # funded for two purchases, so either pick can pay)
    make_participant(session)
    conninfo = libpq_conninfo(database_url)
    counts = raw_purchase.prepare(conninfo)
    try:
        assert counts == {"cards": 2, "courses": 1, "platforms": 1}
        mark, counted = _mark(clean_db), _calls_counted(clean_db)
        done = subprocess.run(
            raw_purchase.command(conninfo, counts, clients=1, transactions=1),
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert raw_purchase.parse(done.stdout)["purchases"] == 1, done.stdout
        raw = _written_since(clean_db, mark)
        raw_counted = _calls_counted(clean_db) - counted
    finally:
        raw_purchase.drop(conninfo)

    # the same tables, as many rows each (the minute's count: one row per server process that counted a call, one
    # shard each, ADR 0043; the app's calls may be served by one to three: the calls counted compared instead);
    # and the rows the purchase is made of are all there
    assert ours_counted == raw_counted == 3
    assert 1 <= ours["partner_rate_windows"] <= 3 and raw["partner_rate_windows"] == 1
    assert {t: n for t, n in raw.items() if t != "partner_rate_windows"} == {
        t: n for t, n in ours.items() if t != "partner_rate_windows"
    }
    for table in (
        "partner_seen_signatures", "partner_rate_windows", "idempotency_keys", "training_purchases",
        "ledger_transfers", "ledger_accounts", "audit_entries", "audit_head", "notifications_messages",
        "procrastinate_jobs", "procrastinate_events", "training_redeem_codes",
        "partner_webhook_events",
    ):  # fmt: skip
        assert table in ours, table
    assert ours["partner_seen_signatures"] == 3 and ours["idempotency_keys"] == 3
    assert ours["audit_entries"] == 3 and ours["ledger_accounts"] == 2
