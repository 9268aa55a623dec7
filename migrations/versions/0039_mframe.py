"""the signed call's fixed cost (issue 13 "Performance", ADR 0033): the idempotency claim sent with ``BEGIN``.

``idempotency_begin(lock, scope, key, now)``: what ``idempotency_claim`` (migrations 0029, 0036) and the caller's
expiry check did, for a caller that sends it in the same message as ``BEGIN`` (the simple query protocol, which
returns no rows to asyncpg): takes the request's idempotency lock (``pg_try_advisory_xact_lock``, held to the
commit), then, in a statement of its own (its snapshot taken after the lock was granted, as before), reads the stored
record's expiry; an expired record is deleted (what ``remove_expired`` did) and the call goes on. It answers nothing
when the request may run, and raises otherwise, which leaves the transaction for the caller to roll back:

- SQLSTATE ``IK409``: the lock is held by another request with the same key (``idempotency_key_in_use``);
- SQLSTATE ``IK200``: a record is stored and has not expired (the caller reads it after the rollback and replays it
  or refuses a mismatch).

Revision ID: 0039_mframe
Revises: 0036_mpg
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0039_mframe"
down_revision: str | Sequence[str] | None = "0036_mpg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEGIN_FUNCTION = """
CREATE FUNCTION idempotency_begin(p_lock bigint, p_scope text, p_key text, p_now timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stored_until timestamptz;
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock) THEN
        RAISE EXCEPTION 'idempotency key in use' USING ERRCODE = 'IK409';
    END IF;
    -- a new statement, a new snapshot (READ COMMITTED): taken after the lock was granted
    SELECT k.expires_at INTO stored_until FROM idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
    IF FOUND THEN
        IF stored_until > p_now THEN
            RAISE EXCEPTION 'idempotency record stored' USING ERRCODE = 'IK200';
        END IF;
        DELETE FROM idempotency_keys WHERE scope = p_scope AND key = p_key AND expires_at <= p_now;
    END IF;
END
$$
"""


def upgrade() -> None:
    op.execute(BEGIN_FUNCTION)


def downgrade() -> None:
    op.execute("DROP FUNCTION idempotency_begin(bigint, text, text, timestamptz)")
