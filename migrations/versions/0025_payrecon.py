"""payouts reconciliation: an index finding a provider's instructions settled within a statement's day, so the
"missing" check reads one day's instructions, not every instruction ever paid.

Revision ID: 0025_payrecon
Revises: 0023_paylink
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0025_payrecon"
down_revision: str | Sequence[str] | None = "0023_paylink"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_payouts_instructions_provider_id_settled_at"),
        "payouts_instructions",
        ["provider_id", "settled_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payouts_instructions_provider_id_settled_at"), table_name="payouts_instructions")
