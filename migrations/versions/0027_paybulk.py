"""payouts bulk runs: an index on the instructions' entitlement, so a run's creation finds each due entitlement's
earlier attempts by index instead of scanning every instruction ever made (ADR 0017).

Revision ID: 0027_paybulk
Revises: 0026_settle
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0027_paybulk"
down_revision: str | Sequence[str] | None = "0026_settle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_payouts_instructions_entitlement_id"), "payouts_instructions", ["entitlement_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payouts_instructions_entitlement_id"), table_name="payouts_instructions")
