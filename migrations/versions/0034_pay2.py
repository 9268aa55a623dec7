"""payouts (ADR 0027): fewer index entries per payout instruction written, and room for its first update in place.
The ``(status, next_check_at)`` index goes (no query reads it: every one filters a batch first, through
``(batch_id, status)``); the one-open-instruction-per-settlement unique index leaves out the instructions that pay no
settlement (an entitlement's: NULLs never conflicted, so the same rows are refused); the table's fillfactor is 50,
so the update that counts a send before the partner gets a file (``sends``, ``next_check_at``,
``provider_reference``, none of them indexed any more) stays on its page without touching any index (HOT).

Revision ID: 0034_pay2
Revises: 0033_payrest
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_pay2"
down_revision: str | Sequence[str] | None = "0033_payrest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('ready', 'sent', 'succeeded')"


def upgrade() -> None:
    op.drop_index(op.f("ix_payouts_instructions_status_next_check_at"), table_name="payouts_instructions")
    op.drop_index("uq_payouts_instructions_one_open_per_settlement", table_name="payouts_instructions")
    op.create_index(
        "uq_payouts_instructions_one_open_per_settlement",
        "payouts_instructions",
        ["settlement_id"],
        unique=True,
        postgresql_where=sa.text(f"settlement_id IS NOT NULL AND {OPEN}"),
    )
    op.execute("ALTER TABLE payouts_instructions SET (fillfactor = 50)")


def downgrade() -> None:
    op.execute("ALTER TABLE payouts_instructions RESET (fillfactor)")
    op.drop_index("uq_payouts_instructions_one_open_per_settlement", table_name="payouts_instructions")
    op.create_index(
        "uq_payouts_instructions_one_open_per_settlement",
        "payouts_instructions",
        ["settlement_id"],
        unique=True,
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        op.f("ix_payouts_instructions_status_next_check_at"),
        "payouts_instructions",
        ["status", "next_check_at"],
        unique=False,
    )
