"""waves: named region lists with provenance (usable as priority tiers); a told marker for entries found
ineligible at close (they are told the outcome after the announcement like everybody else).

Revision ID: 0008_selgaps
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008_selgaps"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waves_region_lists",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("codes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("codes_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("jsonb_array_length(codes) > 0", name=op.f("ck_waves_region_lists_codes_not_empty")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves_region_lists")),
        sa.UniqueConstraint("name", name=op.f("uq_waves_region_lists_name")),
    )
    # A nullable column without a default: a catalogue-only change, no table rewrite.
    op.add_column("waves_entries", sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("waves_entries", "told_at")
    op.drop_table("waves_region_lists")
