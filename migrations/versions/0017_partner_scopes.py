"""partner credentials' list scopes, per-credential rate counters, idempotent responses kept as exact bytes.

Revision ID: 0017_partner_scopes
Revises: 0016_webhooks
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_partner_scopes"
down_revision: str | Sequence[str] | None = "0016_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "auth_partner_credentials",
        sa.Column("list_types", postgresql.ARRAY(sa.String(length=32)), server_default="{}", nullable=False),
    )
    op.add_column(
        "auth_partner_credentials", sa.Column("list_source", sa.String(length=200), server_default="", nullable=False)
    )
    op.create_table(
        "partner_rate_windows",
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("credential_id", "window_start", name=op.f("pk_partner_rate_windows")),
    )
    op.create_index(op.f("ix_partner_rate_windows_window_start"), "partner_rate_windows", ["window_start"])
    # the first response's exact bytes (JSONB reorders keys): rows live 24 hours, existing ones are converted
    op.add_column("idempotency_keys", sa.Column("response_body", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE idempotency_keys SET response_body = convert_to(response::text, 'UTF8')")
    op.alter_column("idempotency_keys", "response_body", nullable=False)
    op.drop_column("idempotency_keys", "response")


def downgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.execute("UPDATE idempotency_keys SET response = convert_from(response_body, 'UTF8')::jsonb")
    op.alter_column("idempotency_keys", "response", nullable=False)
    op.drop_column("idempotency_keys", "response_body")
    op.drop_index(op.f("ix_partner_rate_windows_window_start"), table_name="partner_rate_windows")
    op.drop_table("partner_rate_windows")
    op.drop_column("auth_partner_credentials", "list_source")
    op.drop_column("auth_partner_credentials", "list_types")
