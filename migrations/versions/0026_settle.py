"""provider settlement (ADR 0016): institutions' and platforms' settlement bank accounts, their payables per period
(``payouts_settlements``, one per organisation and month), and the instruction's link to both.

Revision ID: 0026_settle
Revises: 0025_payrecon
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_settle"
down_revision: str | Sequence[str] | None = "0025_payrecon"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payouts_settlement_accounts",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.LargeBinary(), nullable=False),
        sa.Column("number_masked", sa.String(length=32), nullable=False),
        sa.Column("holder_name", sa.LargeBinary(), nullable=False),
        sa.Column("reported_holder_name", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "verified",
                "rejected",
                "replaced",
                name="payouts_settlement_account_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            "failure_reason",
            sa.Enum(
                "account_not_found",
                "account_inactive",
                "name_mismatch",
                "closed_after_link",
                name="payouts_settlement_account_failure",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("inquiry_reference", sa.String(length=64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["auth_partners.id"],
            name=op.f("fk_payouts_settlement_accounts_organisation_id_auth_partners"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["payouts_providers.id"],
            name=op.f("fk_payouts_settlement_accounts_provider_id_payouts_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_settlement_accounts")),
        sa.UniqueConstraint("inquiry_reference", name=op.f("uq_payouts_settlement_accounts_inquiry_reference")),
    )
    op.create_index(
        op.f("ix_payouts_settlement_accounts_organisation_id"),
        "payouts_settlement_accounts",
        ["organisation_id"],
        unique=False,
    )
    op.create_index(
        "uq_payouts_settlement_accounts_one_verified",
        "payouts_settlement_accounts",
        ["organisation_id"],
        unique=True,
        postgresql_where=sa.text("status = 'verified'"),
    )
    op.create_table(
        "payouts_settlements",
        sa.Column("organisation_id", sa.UUID(), nullable=False),
        sa.Column(
            "beneficiary_type",
            sa.Enum(
                "participant",
                "institution",
                "platform",
                name="payouts_settlement_beneficiary",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("completions", sa.Integer(), nullable=False),
        sa.Column("gross", sa.BigInteger(), nullable=False),
        sa.Column("commission", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("statement_ref", sa.String(length=100), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "blocked",
                "scheduled",
                "in_flight",
                "needs_action",
                "paid",
                name="payouts_settlement_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("blocked_reason", sa.String(length=40), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_settlements_amount_positive")),
        sa.CheckConstraint(
            "gross >= 0 AND commission >= 0 AND completions > 0", name=op.f("ck_payouts_settlements_totals_valid")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["auth_partners.id"],
            name=op.f("fk_payouts_settlements_organisation_id_auth_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_settlements")),
        sa.UniqueConstraint("organisation_id", "period", name=op.f("uq_payouts_settlements_organisation_id_period")),
    )
    op.create_index(
        op.f("ix_payouts_settlements_status_period"), "payouts_settlements", ["status", "period"], unique=False
    )
    op.add_column("payouts_instructions", sa.Column("settlement_id", sa.UUID(), nullable=True))
    op.add_column("payouts_instructions", sa.Column("settlement_account_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_payouts_instructions_settlement_id_payouts_settlements"),
        "payouts_instructions",
        "payouts_settlements",
        ["settlement_id"],
        ["id"],
    )
    op.create_foreign_key(
        op.f("fk_payouts_instructions_settlement_account_id_payouts_settlement_accounts"),
        "payouts_instructions",
        "payouts_settlement_accounts",
        ["settlement_account_id"],
        ["id"],
    )
    op.create_index(
        "uq_payouts_instructions_one_open_per_settlement",
        "payouts_instructions",
        ["settlement_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('ready', 'sent', 'succeeded')"),
    )


def downgrade() -> None:
    op.drop_index("uq_payouts_instructions_one_open_per_settlement", table_name="payouts_instructions")
    op.drop_constraint(
        op.f("fk_payouts_instructions_settlement_account_id_payouts_settlement_accounts"),
        "payouts_instructions",
        type_="foreignkey",
    )
    op.drop_constraint(
        op.f("fk_payouts_instructions_settlement_id_payouts_settlements"), "payouts_instructions", type_="foreignkey"
    )
    op.drop_column("payouts_instructions", "settlement_account_id")
    op.drop_column("payouts_instructions", "settlement_id")
    op.drop_index(op.f("ix_payouts_settlements_status_period"), table_name="payouts_settlements")
    op.drop_table("payouts_settlements")
    op.drop_index("uq_payouts_settlement_accounts_one_verified", table_name="payouts_settlement_accounts")
    op.drop_index(op.f("ix_payouts_settlement_accounts_organisation_id"), table_name="payouts_settlement_accounts")
    op.drop_table("payouts_settlement_accounts")
