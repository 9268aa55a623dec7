"""payouts (ADR 0026): further settlement runs the same day (``payouts_runs.sequence``, unique with kind and day);
institutions' receivables for purchases refunded after their settlement was paid (``payouts_receivables``), deducted
from their next settlements (``payouts_settlements.deducted``/``deductions``; a settlement may be paid by the
deduction alone, amount zero).

Revision ID: 0033_payrest
Revises: 0032_bulk
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0033_payrest"
down_revision: str | Sequence[str] | None = "0032_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payouts_runs", sa.Column("sequence", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint("uq_payouts_runs_kind_run_date", "payouts_runs", type_="unique")
    op.create_unique_constraint(
        "uq_payouts_runs_kind_run_date_sequence", "payouts_runs", ["kind", "run_date", "sequence"]
    )
    op.create_check_constraint(op.f("ck_payouts_runs_sequence_positive"), "payouts_runs", "sequence >= 1")
    op.add_column("payouts_settlements", sa.Column("deducted", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column(
        "payouts_settlements",
        sa.Column("deductions", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
    )
    op.drop_constraint(op.f("ck_payouts_settlements_amount_positive"), "payouts_settlements", type_="check")
    op.create_check_constraint(
        op.f("ck_payouts_settlements_amount_not_negative"), "payouts_settlements", "amount >= 0 AND deducted >= 0"
    )
    op.create_table(
        "payouts_receivables",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("recovered", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("transfer_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "recovered", name="payouts_receivable_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount > 0 AND recovered >= 0 AND recovered <= amount", name=op.f("ck_payouts_receivables_amounts_valid")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["auth_partners.id"], name=op.f("fk_payouts_receivables_organisation_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_receivables")),
        sa.UniqueConstraint("purchase_id", name=op.f("uq_payouts_receivables_purchase_id")),
    )
    op.create_index(
        op.f("ix_payouts_receivables_organisation_id_status"), "payouts_receivables", ["organisation_id", "status"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payouts_receivables_organisation_id_status"), table_name="payouts_receivables")
    op.drop_table("payouts_receivables")
    op.drop_constraint(op.f("ck_payouts_settlements_amount_not_negative"), "payouts_settlements", type_="check")
    op.execute("DELETE FROM payouts_settlements WHERE amount = 0")
    op.create_check_constraint(op.f("ck_payouts_settlements_amount_positive"), "payouts_settlements", "amount > 0")
    op.drop_column("payouts_settlements", "deductions")
    op.drop_column("payouts_settlements", "deducted")
    op.drop_constraint(op.f("ck_payouts_runs_sequence_positive"), "payouts_runs", type_="check")
    op.drop_constraint("uq_payouts_runs_kind_run_date_sequence", "payouts_runs", type_="unique")
    op.execute("DELETE FROM payouts_runs WHERE sequence > 1")
    op.create_unique_constraint("uq_payouts_runs_kind_run_date", "payouts_runs", ["kind", "run_date"])
    op.drop_column("payouts_runs", "sequence")
