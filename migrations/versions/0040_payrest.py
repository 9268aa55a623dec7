"""payouts (ADR 0028): further settlement runs the same day (``payouts_runs.sequence``, unique with kind and day).

Revision ID: 0040_payrest
Revises: 0032_bulk
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040_payrest"
down_revision: str | Sequence[str] | None = "0032_bulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payouts_runs", sa.Column("sequence", sa.Integer(), server_default="1", nullable=False))
    op.drop_constraint("uq_payouts_runs_kind_run_date", "payouts_runs", type_="unique")
    op.create_unique_constraint(
        "uq_payouts_runs_kind_run_date_sequence", "payouts_runs", ["kind", "run_date", "sequence"]
    )
    op.create_check_constraint("ck_payouts_runs_sequence_positive", "payouts_runs", "sequence >= 1")


def downgrade() -> None:
    op.drop_constraint("ck_payouts_runs_sequence_positive", "payouts_runs", type_="check")
    op.drop_constraint("uq_payouts_runs_kind_run_date_sequence", "payouts_runs", type_="unique")
    op.execute("DELETE FROM payouts_runs WHERE sequence > 1")
    op.create_unique_constraint("uq_payouts_runs_kind_run_date", "payouts_runs", ["kind", "run_date"])
    op.drop_column("payouts_runs", "sequence")
