"""ledger: remember forfeits that found nothing, so a retried forfeit id returns the same nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_empty_forfeits",
        sa.Column("transfer_id", sa.UUID(), nullable=False),
        sa.Column("participant_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_ledger_empty_forfeits")),
    )
    op.execute(
        "CREATE TRIGGER ledger_empty_forfeits_append_only BEFORE UPDATE OR DELETE ON ledger_empty_forfeits "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )


def downgrade() -> None:
    op.drop_table("ledger_empty_forfeits")
