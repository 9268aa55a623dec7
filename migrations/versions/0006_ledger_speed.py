"""ledger: drop the per-row foreign keys from transfers to accounts (the service checks existence under the
account locks, accounts are never deleted, and `ledger check` reports any transfer on an unknown account);
accounts get fillfactor 70, so updating their totals is a HOT update (no new index entries) on pages written from
now on (older pages follow after a `VACUUM FULL ledger_accounts` in a quiet hour).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FKS = (
    ("fk_ledger_transfers_debit_account_id_ledger_accounts", "debit_account_id"),
    ("fk_ledger_transfers_credit_account_id_ledger_accounts", "credit_account_id"),
)


def upgrade() -> None:
    for name, _column in _FKS:
        op.drop_constraint(name, "ledger_transfers", type_="foreignkey")
    op.execute("ALTER TABLE ledger_accounts SET (fillfactor = 70)")


def downgrade() -> None:
    op.execute("ALTER TABLE ledger_accounts RESET (fillfactor)")
    for name, column in _FKS:
        op.create_foreign_key(name, "ledger_transfers", "ledger_accounts", [column], ["id"])
