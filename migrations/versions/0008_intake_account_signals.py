"""registration: devices and IPs seen at sign-up (blind indexes), counted by the integrity scan.

Revision ID: 0008_intake
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_intake"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_account_signals",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["auth_accounts.id"],
            name=op.f("fk_registration_account_signals_account_id_auth_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "kind", "value_index", name=op.f("pk_registration_account_signals")),
    )
    op.create_index(
        op.f("ix_registration_account_signals_kind_value_index"),
        "registration_account_signals",
        ["kind", "value_index"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_registration_account_signals_kind_value_index"), table_name="registration_account_signals")
    op.drop_table("registration_account_signals")
