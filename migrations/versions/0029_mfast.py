"""marketplace speed (issue 13 "Performance", ADR 0018): fewer round trips on the partner purchase path.

``idempotency_claim(lock, scope, key)``: take the request's idempotency lock and read the stored record in one
round trip. Two statements inside a volatile PL/pgSQL function: the read takes its snapshot after the lock was
granted, so it sees a record committed by the previous holder of the lock (one statement doing both would read
with a snapshot taken before the lock, and could miss it).

Revision ID: 0029_mfast
Revises: 0028_paydemo
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_mfast"
down_revision: str | Sequence[str] | None = "0028_paydemo"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION idempotency_claim(p_lock bigint, p_scope text, p_key text)
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
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION idempotency_claim(bigint, text, text)")
