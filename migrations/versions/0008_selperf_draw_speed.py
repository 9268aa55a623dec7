"""selection: the digest of eligible.csv recorded at commitment, so the draw checks the published list against it
instead of recomputing the Merkle tree.

Revision ID: 0008_selperf
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_selperf"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("selection_draws", sa.Column("eligible_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("selection_draws", "eligible_sha256")
