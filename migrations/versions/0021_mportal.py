"""partners: the log of refused partner calls moves from the marketplace to the signed API's plumbing
(``partner_refusals``: every endpoint, unauthenticated callers too, with a review mark). Expand step: the rows of
``training_partner_refusals`` are copied over; that table is no longer written and a later release drops it.

Revision ID: 0021_mportal
Revises: 0021_mperf
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_mportal"
down_revision: str | Sequence[str] | None = "0021_mperf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partner_refusals",
        sa.Column("partner_id", sa.UUID(), nullable=True),
        sa.Column("credential_id", sa.UUID(), nullable=True),
        sa.Column("client_code", sa.String(length=64), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("endpoint", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_partner_refusals_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_refusals")),
    )
    op.create_index(op.f("ix_partner_refusals_created_at"), "partner_refusals", ["created_at"], unique=False)
    op.create_index(
        op.f("ix_partner_refusals_partner_id_created_at"),
        "partner_refusals",
        ["partner_id", "created_at"],
        unique=False,
    )
    # the marketplace's refusals so far: "POST /partner/v1/..." becomes method and route
    op.execute(
        """
        INSERT INTO partner_refusals (id, created_at, partner_id, credential_id, client_code, signed, method,
                                      endpoint, code, status, remote)
        SELECT r.id, r.created_at, r.partner_id, r.credential_id, coalesce(c.client_code, ''), true,
               split_part(r.endpoint, ' ', 1), substr(r.endpoint, length(split_part(r.endpoint, ' ', 1)) + 2),
               r.code, r.status, ''
        FROM training_partner_refusals r
        LEFT JOIN auth_partner_credentials c ON c.id = r.credential_id
        """
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_refusals_partner_id_created_at"), table_name="partner_refusals")
    op.drop_index(op.f("ix_partner_refusals_created_at"), table_name="partner_refusals")
    op.drop_table("partner_refusals")
