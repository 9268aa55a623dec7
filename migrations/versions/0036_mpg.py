"""purchase path, PostgreSQL's side (issue 13 "Performance", ADR 0029): the same guarantees in fewer statements.

- ``prakerja_audit_link`` (the audit chain's deferred link trigger, ADR 0012): the chain's head row locked and read in
  one statement (``SELECT ... FOR UPDATE``) instead of an advisory lock and a read, and moved on with a plain
  ``UPDATE`` instead of an upsert: three statements an entry instead of four. The head row's lock serializes the
  link step and the commit as the advisory lock did (in READ COMMITTED, ``FOR UPDATE`` waits for the holder and then
  reads the row it committed). Only while the head row does not exist yet (the first entry ever) is the advisory lock
  taken, as before, so that two first entries are linked in turn.
- Indexes a purchase no longer maintains where another index or a narrower one does the same work:
  ``ix_partner_webhook_events_partner_id`` dropped (the unique index on (partner_id, webhook_id) starts with the same
  column); the voucher's unique constraint becomes a unique index of the rows that have a voucher (a purchase
  awaiting its code is not in it; uniqueness is the same: NULLs never conflicted);
  ``ix_training_purchases_status_otp_expires_at`` becomes ``ix_training_purchases_otp_sent_expires_at``, the expiry
  of the purchases awaiting their code (what ``expire_otps`` reads; a confirmation no longer adds an entry to it).
- ``idempotency_claim`` (migration 0029): the same answer with a ``SELECT ... INTO`` and one ``RETURN NEXT`` instead of
  up to two ``RETURN QUERY``; the read is still a statement of its own, so its snapshot is still taken after the lock.

Revision ID: 0036_mpg
Revises: 0035_commission
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0036_mpg"
down_revision: str | Sequence[str] | None = "0035_commission"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION prakerja_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    new_seq bigint;
    new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN
        RETURN NULL;  -- written already linked (entries from before 0021, restores)
    END IF;
    IF NEW.body_digest IS NULL OR length(NEW.body_digest) <> 32 THEN
        RAISE EXCEPTION 'audit entry % has no content digest: cannot link it', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    -- the chain lock: the head row's, held to the commit (a linker committing meanwhile is waited for, and the
    -- row it committed is the one read)
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- no head yet (the first entry ever): two first entries take turns on 0021's advisory lock
        PERFORM pg_advisory_xact_lock(7301001);
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    END IF;
    new_seq := coalesce(head_seq, 0) + 1;
    head_hash := coalesce(head_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    new_hash := sha256(head_hash || int8send(new_seq) || NEW.body_digest);
    UPDATE audit_entries SET seq = new_seq, prev_hash = head_hash, hash = new_hash
        WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed again by its own transaction before the commit
    END IF;
    IF head_seq IS NULL THEN
        INSERT INTO audit_head (id, seq, hash) VALUES (1, new_seq, new_hash)
            ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    ELSE
        UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;
"""

# 0021's, for the downgrade
OLD_LINK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION prakerja_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    new_seq bigint;
    new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN
        RETURN NULL;  -- written already linked (entries from before the upgrade, restores)
    END IF;
    IF NEW.body_digest IS NULL OR length(NEW.body_digest) <> 32 THEN
        RAISE EXCEPTION 'audit entry % has no content digest: cannot link it', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(7301001);
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
    new_seq := coalesce(head_seq, 0) + 1;
    head_hash := coalesce(head_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    new_hash := sha256(head_hash || int8send(new_seq) || NEW.body_digest);
    UPDATE audit_entries SET seq = new_seq, prev_hash = head_hash, hash = new_hash
        WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed again by its own transaction before the commit
    END IF;
    INSERT INTO audit_head (id, seq, hash) VALUES (1, new_seq, new_hash)
        ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NULL;
END;
$$;
"""

CLAIM_FUNCTION = """
CREATE OR REPLACE FUNCTION idempotency_claim(p_lock bigint, p_scope text, p_key text)
RETURNS TABLE (locked boolean, fingerprint bytea, status_code integer, response_body bytea,
               expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    locked := pg_try_advisory_xact_lock(p_lock);
    IF locked THEN
        -- a new statement, a new snapshot (READ COMMITTED): taken after the lock was granted
        SELECT k.fingerprint, k.status_code, k.response_body, k.expires_at
            INTO fingerprint, status_code, response_body, expires_at
            FROM idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
    END IF;
    RETURN NEXT;
END
$$
"""

OLD_CLAIM_FUNCTION = """
CREATE OR REPLACE FUNCTION idempotency_claim(p_lock bigint, p_scope text, p_key text)
RETURNS TABLE (locked boolean, fingerprint bytea, status_code integer, response_body bytea,
               expires_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock) THEN
        RETURN QUERY SELECT false, NULL::bytea, NULL::integer, NULL::bytea, NULL::timestamptz;
        RETURN;
    END IF;
    -- a new statement, a new snapshot (READ COMMITTED): taken after the lock was granted
    RETURN QUERY
        SELECT true, k.fingerprint, k.status_code, k.response_body, k.expires_at
        FROM idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
    IF NOT FOUND THEN
        RETURN QUERY SELECT true, NULL::bytea, NULL::integer, NULL::bytea, NULL::timestamptz;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.execute(LINK_FUNCTION)
    op.execute(CLAIM_FUNCTION)
    op.drop_index("ix_partner_webhook_events_partner_id", table_name="partner_webhook_events")
    op.create_index(
        "uq_training_purchases_voucher_code_partial",
        "training_purchases",
        ["voucher_code"],
        unique=True,
        postgresql_where=sa.text("voucher_code IS NOT NULL"),
    )
    op.drop_constraint("uq_training_purchases_voucher_code", "training_purchases", type_="unique")
    op.execute("ALTER INDEX uq_training_purchases_voucher_code_partial RENAME TO uq_training_purchases_voucher_code")
    op.create_index(
        "ix_training_purchases_otp_sent_expires_at",
        "training_purchases",
        ["otp_expires_at"],
        postgresql_where=sa.text("status = 'otp_sent'"),
    )
    op.drop_index("ix_training_purchases_status_otp_expires_at", table_name="training_purchases")


def downgrade() -> None:
    op.create_index("ix_training_purchases_status_otp_expires_at", "training_purchases", ["status", "otp_expires_at"])
    op.drop_index("ix_training_purchases_otp_sent_expires_at", table_name="training_purchases")
    op.drop_index("uq_training_purchases_voucher_code", table_name="training_purchases")
    op.create_unique_constraint("uq_training_purchases_voucher_code", "training_purchases", ["voucher_code"])
    op.create_index("ix_partner_webhook_events_partner_id", "partner_webhook_events", ["partner_id"])
    op.execute(OLD_CLAIM_FUNCTION)
    op.execute(OLD_LINK_FUNCTION)
