"""payouts: repayments towards a clawback (each under the payer's reference, with its ledger transfer).

Revision ID: 0023_paylink
Revises: 0022_chain
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023_paylink"
down_revision: str | Sequence[str] | None = "0022_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payouts_clawback_repayments",
        sa.Column("clawback_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("transfer_id", sa.UUID(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_clawback_repayments_amount_positive")),
        sa.ForeignKeyConstraint(
            ["clawback_id"],
            ["payouts_clawbacks.id"],
            name=op.f("fk_payouts_clawback_repayments_clawback_id_payouts_clawbacks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_clawback_repayments")),
        sa.UniqueConstraint(
            "clawback_id", "reference", name=op.f("uq_payouts_clawback_repayments_clawback_id_reference")
        ),
        sa.UniqueConstraint("transfer_id", name=op.f("uq_payouts_clawback_repayments_transfer_id")),
    )
    op.create_index(
        op.f("ix_payouts_clawback_repayments_clawback_id"), "payouts_clawback_repayments", ["clawback_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payouts_clawback_repayments_clawback_id"), table_name="payouts_clawback_repayments")
    op.drop_table("payouts_clawback_repayments")
