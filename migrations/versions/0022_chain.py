"""ledger: the batch path links each account's hash chain once per batch (ADR 0013). A transfer row holds either a
per-transfer link (format 1, as before: ``debit_prev_hash``, ``credit_prev_hash``, ``hash``; single transfers and
linked chains) or, written by a batch, ``debit_link`` / ``credit_link``: set on the row that is the account's last
one in the batch, to ``sha256(previous head || the canonical text + "\\n" of each of the account's transfers of the
batch, in order)`` (format 2; ``rules.link_hash``). ``ledger_canonical(...)`` is the canonical text in SQL, for
``ledger check``. Existing rows stay format 1 and stay verifiable as they are: nothing is rewritten.

Revision ID: 0022_chain
Revises: 0021_mportal
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022_chain"
down_revision: str | Sequence[str] | None = "0021_mportal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# rules.canonical in SQL; the same text ledger_chain_hash (migration 0010) hashes. STABLE for the reason given there.
_CANONICAL = r"""
CREATE FUNCTION ledger_canonical(
    id uuid, ledger integer, code text, mode text, debit uuid, credit uuid, amount bigint, pending uuid,
    timeout_at timestamptz, ref_type text, ref_id text, created_at timestamptz
) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $fn$
    SELECT concat_ws('|',
        id::text, ledger::text, code, mode, debit::text, credit::text, amount::text, coalesce(pending::text, ''),
        coalesce(((extract(epoch FROM timeout_at) * 1000000)::bigint)::text, ''), ref_type, ref_id,
        ((extract(epoch FROM created_at) * 1000000)::bigint)::text)
$fn$
"""

_FORMAT = (
    "(hash IS NOT NULL AND debit_prev_hash IS NOT NULL AND credit_prev_hash IS NOT NULL"
    " AND debit_link IS NULL AND credit_link IS NULL)"
    " OR (hash IS NULL AND debit_prev_hash IS NULL AND credit_prev_hash IS NULL)"
)


def upgrade() -> None:
    for column in ("debit_prev_hash", "credit_prev_hash", "hash"):
        op.alter_column("ledger_transfers", column, existing_type=sa.LargeBinary(length=32), nullable=True)
    op.add_column("ledger_transfers", sa.Column("debit_link", sa.LargeBinary(length=32), nullable=True))
    op.add_column("ledger_transfers", sa.Column("credit_link", sa.LargeBinary(length=32), nullable=True))
    op.create_check_constraint(op.f("ck_ledger_transfers_chain_format"), "ledger_transfers", _FORMAT)
    op.execute(_CANONICAL)


def downgrade() -> None:
    """Only while every transfer is in format 1 (a batch-linked ledger has no per-transfer hashes to go back to)."""
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM ledger_transfers WHERE hash IS NULL) THEN"
        " RAISE EXCEPTION 'ledger_transfers holds batch-linked rows (format 2): cannot go below 0022_chain';"
        " END IF; END $$"
    )
    op.execute(
        "DROP FUNCTION ledger_canonical(uuid, integer, text, text, uuid, uuid, bigint, uuid, timestamptz, text, text,"
        " timestamptz)"
    )
    op.drop_constraint(op.f("ck_ledger_transfers_chain_format"), "ledger_transfers", type_="check")
    op.drop_column("ledger_transfers", "credit_link")
    op.drop_column("ledger_transfers", "debit_link")
    for column in ("debit_prev_hash", "credit_prev_hash", "hash"):
        op.alter_column("ledger_transfers", column, existing_type=sa.LargeBinary(length=32), nullable=False)
