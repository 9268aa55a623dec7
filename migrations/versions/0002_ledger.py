"""ledger: accounts with running totals, append-only hash-chained transfers; idempotency keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index(op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False)
    op.create_table(
        "ledger_accounts",
        sa.Column("ledger", sa.SmallInteger(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "treasury",
                "state_budget",
                "training_wallet",
                "institution_payable",
                "platform_commission",
                "incentive_payable",
                "survey_incentive_payable",
                "payouts_in_flight",
                "disbursed",
                name="ledger_account_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_type", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("debits_must_not_exceed_credits", sa.Boolean(), nullable=False),
        sa.Column("credits_must_not_exceed_debits", sa.Boolean(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("debits_pending", sa.BigInteger(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_pending", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "NOT (debits_must_not_exceed_credits AND credits_must_not_exceed_debits)",
            name=op.f("ck_ledger_accounts_one_balance_flag"),
        ),
        sa.CheckConstraint(
            "NOT credits_must_not_exceed_debits OR credits_pending + credits_posted <= debits_posted",
            name=op.f("ck_ledger_accounts_credits_within_debits"),
        ),
        sa.CheckConstraint(
            "NOT debits_must_not_exceed_credits OR debits_pending + debits_posted <= credits_posted",
            name=op.f("ck_ledger_accounts_debits_within_credits"),
        ),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 AND credits_posted >= 0",
            name=op.f("ck_ledger_accounts_totals_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_accounts")),
        sa.UniqueConstraint(
            "ledger", "kind", "owner_type", "owner_id", name=op.f("uq_ledger_accounts_ledger_kind_owner_type_owner_id")
        ),
    )
    op.create_index(
        op.f("ix_ledger_accounts_scheme_year_kind"), "ledger_accounts", ["scheme", "year", "kind"], unique=False
    )
    op.create_table(
        "ledger_transfers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("ledger", sa.SmallInteger(), nullable=False),
        sa.Column(
            "code",
            sa.Enum(
                "allocate",
                "fund",
                "purchase",
                "commission",
                "refund",
                "expired",
                "forfeit_revocation",
                "forfeit_expiry",
                "incentive",
                "survey_incentive",
                "payout",
                "payout_settled",
                "payout_failed",
                "adjustment",
                name="ledger_transfer_code",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "mode",
            sa.Enum(
                "posted",
                "pending",
                "post_pending",
                "void_pending",
                name="ledger_transfer_mode",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("debit_account_id", sa.UUID(), nullable=False),
        sa.Column("credit_account_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("pending_id", sa.UUID(), nullable=True),
        sa.Column("timeout_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ref_type", sa.String(length=32), nullable=False),
        sa.Column("ref_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("debit_prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("credit_prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.CheckConstraint(
            "(mode IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
            name=op.f("ck_ledger_transfers_pending_reference"),
        ),
        sa.CheckConstraint(
            "timeout_at IS NULL OR mode = 'pending'", name=op.f("ck_ledger_transfers_timeout_only_pending")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_transfers_amount_positive")),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name=op.f("ck_ledger_transfers_two_accounts")),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_credit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"],
            ["ledger_accounts.id"],
            name=op.f("fk_ledger_transfers_debit_account_id_ledger_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"], ["ledger_transfers.id"], name=op.f("fk_ledger_transfers_pending_id_ledger_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfers")),
    )
    for table in ("ledger_transfers",):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
        )
    op.execute(
        "CREATE TRIGGER ledger_accounts_never_deleted BEFORE DELETE ON ledger_accounts "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )
    for table in ("ledger_transfers", "ledger_accounts"):
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION prakerja_refuse_change()"
        )
    op.create_index(
        op.f("ix_ledger_transfers_credit_account_id_seq"),
        "ledger_transfers",
        ["credit_account_id", "seq"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ledger_transfers_debit_account_id_seq"), "ledger_transfers", ["debit_account_id", "seq"], unique=False
    )
    op.create_index(
        op.f("ix_ledger_transfers_pending_id"),
        "ledger_transfers",
        ["pending_id"],
        unique=True,
        postgresql_where=sa.text("pending_id IS NOT NULL"),
    )
    op.create_index(
        op.f("ix_ledger_transfers_timeout_at"),
        "ledger_transfers",
        ["timeout_at"],
        unique=False,
        postgresql_where=sa.text("timeout_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_ledger_transfers_timeout_at"),
        table_name="ledger_transfers",
        postgresql_where=sa.text("timeout_at IS NOT NULL"),
    )
    op.drop_index(
        op.f("ix_ledger_transfers_pending_id"),
        table_name="ledger_transfers",
        postgresql_where=sa.text("pending_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_ledger_transfers_debit_account_id_seq"), table_name="ledger_transfers")
    op.drop_index(op.f("ix_ledger_transfers_credit_account_id_seq"), table_name="ledger_transfers")
    op.drop_table("ledger_transfers")
    op.drop_index(op.f("ix_ledger_accounts_scheme_year_kind"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
