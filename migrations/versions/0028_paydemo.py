"""payouts clawbacks: a demand withdrawn (raised in error) keeps when and why.

Revision ID: 0028_paydemo
Revises: 0027_paybulk
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_paydemo"
down_revision: str | Sequence[str] | None = "0027_paybulk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payouts_clawbacks", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("payouts_clawbacks", sa.Column("withdrawal_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("payouts_clawbacks", "withdrawal_reason")
    op.drop_column("payouts_clawbacks", "withdrawn_at")
