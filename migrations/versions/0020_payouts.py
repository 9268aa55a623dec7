"""payouts: payment providers, participants' payout accounts, entitlements, payout runs, batches and instructions,
every result partners reported, statements and their entries, reconciliation differences and clawbacks.

Revision ID: 0020_payouts
Revises: 0019_partner_profiles
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_payouts"
down_revision: str | Sequence[str] | None = "0019_partner_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payouts_runs",
        sa.Column(
            "kind",
            sa.Enum("incentives", "settlement", name="payouts_run_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "preparing",
                "sending",
                "awaiting_results",
                "completed",
                name="payouts_run_status",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_runs")),
        sa.UniqueConstraint("kind", "run_date", name=op.f("uq_payouts_runs_kind_run_date")),
    )
    op.create_table(
        "payouts_providers",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("bank", "ewallet", name="payouts_provider_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "channel", sa.Enum("api", "file", name="payouts_channel", native_enum=False, length=16), nullable=False
        ),
        sa.Column("api_base_url", sa.String(length=300), nullable=False),
        sa.Column("api_secret", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_payouts_providers_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_providers")),
        sa.UniqueConstraint("code", name=op.f("uq_payouts_providers_code")),
        sa.UniqueConstraint("partner_id", name=op.f("uq_payouts_providers_partner_id")),
    )
    op.create_table(
        "payouts_accounts",
        sa.Column("recipient_id", sa.UUID(), nullable=False),
        sa.Column("participant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.LargeBinary(), nullable=False),
        sa.Column("number_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("number_masked", sa.String(length=32), nullable=False),
        sa.Column("holder_name", sa.LargeBinary(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "inquiring",
                "otp_sent",
                "active",
                "rejected",
                "replaced",
                name="payouts_account_status",
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
                "nik_mismatch",
                "ewallet_not_kyc",
                "phone_mismatch",
                "otp_failed",
                "partner_unavailable",
                "closed_after_link",
                name="payouts_account_failure",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("link_reference", sa.String(length=64), nullable=True),
        sa.Column("otp_attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("otp_attempts >= 0", name=op.f("ck_payouts_accounts_otp_attempts_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_payouts_accounts_account_id_auth_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["payouts_providers.id"], name=op.f("fk_payouts_accounts_provider_id_payouts_providers")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["selection_recipients.id"],
            name=op.f("fk_payouts_accounts_recipient_id_selection_recipients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_accounts")),
        sa.UniqueConstraint("link_reference", name=op.f("uq_payouts_accounts_link_reference")),
    )
    op.create_index(op.f("ix_payouts_accounts_number_index"), "payouts_accounts", ["number_index"], unique=False)
    op.create_index(op.f("ix_payouts_accounts_recipient_id"), "payouts_accounts", ["recipient_id"], unique=False)
    op.create_index(
        "uq_payouts_accounts_one_active",
        "payouts_accounts",
        ["recipient_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "payouts_batches",
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("control_sum", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("ready", "sent", "completed", name="payouts_batch_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count >= 0 AND control_sum >= 0", name=op.f("ck_payouts_batches_totals_not_negative")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["payouts_providers.id"], name=op.f("fk_payouts_batches_provider_id_payouts_providers")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["payouts_runs.id"], name=op.f("fk_payouts_batches_run_id_payouts_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_batches")),
        sa.UniqueConstraint("message_id", name=op.f("uq_payouts_batches_message_id")),
        sa.UniqueConstraint("run_id", "provider_id", name=op.f("uq_payouts_batches_run_id_provider_id")),
    )
    op.create_table(
        "payouts_clawbacks",
        sa.Column("recipient_id", sa.UUID(), nullable=False),
        sa.Column("participant_id", sa.UUID(), nullable=False),
        sa.Column("amount_due", sa.BigInteger(), nullable=False),
        sa.Column("amount_repaid", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "repaid", "overdue", "withdrawn", name="payouts_clawback_status", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("demand_transfer_id", sa.UUID(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_due > 0", name=op.f("ck_payouts_clawbacks_amount_positive")),
        sa.CheckConstraint(
            "amount_repaid >= 0 AND amount_repaid <= amount_due", name=op.f("ck_payouts_clawbacks_repaid_within_due")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["selection_recipients.id"],
            name=op.f("fk_payouts_clawbacks_recipient_id_selection_recipients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_clawbacks")),
    )
    op.create_index(op.f("ix_payouts_clawbacks_recipient_id"), "payouts_clawbacks", ["recipient_id"], unique=False)
    op.create_table(
        "payouts_entitlements",
        sa.Column("recipient_id", sa.UUID(), nullable=False),
        sa.Column("participant_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("incentive", "survey_incentive", name="payouts_entitlement_kind", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("instalment", sa.SmallInteger(), nullable=False),
        sa.Column("scheme", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "blocked",
                "scheduled",
                "in_flight",
                "needs_action",
                "paid",
                "expired",
                "cancelled",
                name="payouts_entitlement_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("blocked_reason", sa.String(length=40), nullable=True),
        sa.Column("source_ref", sa.String(length=100), nullable=False),
        sa.Column("schedule_transfer_id", sa.UUID(), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_entitlements_amount_positive")),
        sa.CheckConstraint("instalment >= 1", name=op.f("ck_payouts_entitlements_instalment_positive")),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["selection_recipients.id"],
            name=op.f("fk_payouts_entitlements_recipient_id_selection_recipients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_entitlements")),
        sa.UniqueConstraint(
            "recipient_id", "kind", "instalment", name=op.f("uq_payouts_entitlements_recipient_id_kind_instalment")
        ),
    )
    op.create_index(
        op.f("ix_payouts_entitlements_status_due_on"), "payouts_entitlements", ["status", "due_on"], unique=False
    )
    op.create_table(
        "payouts_results",
        sa.Column("provider_id", sa.UUID(), nullable=True),
        sa.Column(
            "source",
            sa.Enum(
                "callback", "status_file", "status_query", name="payouts_result_source", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("reported_status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("rejection", sa.String(length=40), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["payouts_providers.id"], name=op.f("fk_payouts_results_provider_id_payouts_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_results")),
        sa.UniqueConstraint("provider_id", "event_id", name=op.f("uq_payouts_results_provider_id_event_id")),
    )
    op.create_index(op.f("ix_payouts_results_end_to_end_id"), "payouts_results", ["end_to_end_id"], unique=False)
    op.create_table(
        "payouts_statements",
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("statement_ref", sa.String(length=35), nullable=False),
        sa.Column(
            "format",
            sa.Enum("camt053", "csv", name="payouts_statement_format", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("control_sum", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("ingested_by", sa.String(length=100), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["payouts_providers.id"], name=op.f("fk_payouts_statements_provider_id_payouts_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_statements")),
        sa.UniqueConstraint(
            "provider_id", "statement_ref", name=op.f("uq_payouts_statements_provider_id_statement_ref")
        ),
        sa.UniqueConstraint("sha256", name=op.f("uq_payouts_statements_sha256")),
    )
    op.create_table(
        "payouts_differences",
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column("statement_id", sa.UUID(), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "missing",
                "extra",
                "amount_mismatch",
                "reversal_after_success",
                name="payouts_difference_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("expected_amount", sa.BigInteger(), nullable=True),
        sa.Column("actual_amount", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["payouts_providers.id"], name=op.f("fk_payouts_differences_provider_id_payouts_providers")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["payouts_statements.id"],
            name=op.f("fk_payouts_differences_statement_id_payouts_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_differences")),
        sa.UniqueConstraint(
            "provider_id", "end_to_end_id", "kind", name=op.f("uq_payouts_differences_provider_id_end_to_end_id_kind")
        ),
    )
    op.create_table(
        "payouts_instructions",
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("batch_id", sa.UUID(), nullable=False),
        sa.Column("provider_id", sa.UUID(), nullable=False),
        sa.Column(
            "beneficiary_type",
            sa.Enum(
                "participant", "institution", "platform", name="payouts_beneficiary_type", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("beneficiary_id", sa.UUID(), nullable=False),
        sa.Column("entitlement_id", sa.UUID(), nullable=True),
        sa.Column("payout_account_id", sa.UUID(), nullable=True),
        sa.Column("settlement_ref", sa.String(length=100), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("attempt", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("pending_transfer_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "ready",
                "sent",
                "succeeded",
                "failed",
                "reversed",
                name="payouts_instruction_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("failure_code", sa.String(length=40), nullable=True),
        sa.Column("provider_reference", sa.String(length=64), nullable=True),
        sa.Column("sends", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payouts_instructions_amount_positive")),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_payouts_instructions_attempt_positive")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["payouts_batches.id"], name=op.f("fk_payouts_instructions_batch_id_payouts_batches")
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["payouts_entitlements.id"],
            name=op.f("fk_payouts_instructions_entitlement_id_payouts_entitlements"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_account_id"],
            ["payouts_accounts.id"],
            name=op.f("fk_payouts_instructions_payout_account_id_payouts_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["payouts_providers.id"],
            name=op.f("fk_payouts_instructions_provider_id_payouts_providers"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["payouts_runs.id"], name=op.f("fk_payouts_instructions_run_id_payouts_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_instructions")),
        sa.UniqueConstraint("end_to_end_id", name=op.f("uq_payouts_instructions_end_to_end_id")),
        sa.UniqueConstraint("pending_transfer_id", name=op.f("uq_payouts_instructions_pending_transfer_id")),
    )
    op.create_index(
        op.f("ix_payouts_instructions_batch_id_status"), "payouts_instructions", ["batch_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_payouts_instructions_status_next_check_at"),
        "payouts_instructions",
        ["status", "next_check_at"],
        unique=False,
    )
    op.create_index(
        "uq_payouts_instructions_one_open_per_entitlement",
        "payouts_instructions",
        ["entitlement_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('ready', 'sent', 'succeeded')"),
    )
    op.create_table(
        "payouts_statement_entries",
        sa.Column("statement_id", sa.UUID(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("debit", sa.Boolean(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["payouts_statements.id"],
            name=op.f("fk_payouts_statement_entries_statement_id_payouts_statements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts_statement_entries")),
    )
    op.create_index(
        op.f("ix_payouts_statement_entries_end_to_end_id"), "payouts_statement_entries", ["end_to_end_id"], unique=False
    )
    op.create_index(
        op.f("ix_payouts_statement_entries_statement_id"), "payouts_statement_entries", ["statement_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_payouts_statement_entries_statement_id"), table_name="payouts_statement_entries")
    op.drop_index(op.f("ix_payouts_statement_entries_end_to_end_id"), table_name="payouts_statement_entries")
    op.drop_table("payouts_statement_entries")
    op.drop_index(
        "uq_payouts_instructions_one_open_per_entitlement",
        table_name="payouts_instructions",
        postgresql_where=sa.text("status IN ('ready', 'sent', 'succeeded')"),
    )
    op.drop_index(op.f("ix_payouts_instructions_status_next_check_at"), table_name="payouts_instructions")
    op.drop_index(op.f("ix_payouts_instructions_batch_id_status"), table_name="payouts_instructions")
    op.drop_table("payouts_instructions")
    op.drop_table("payouts_differences")
    op.drop_table("payouts_statements")
    op.drop_index(op.f("ix_payouts_results_end_to_end_id"), table_name="payouts_results")
    op.drop_table("payouts_results")
    op.drop_index(op.f("ix_payouts_entitlements_status_due_on"), table_name="payouts_entitlements")
    op.drop_table("payouts_entitlements")
    op.drop_index(op.f("ix_payouts_clawbacks_recipient_id"), table_name="payouts_clawbacks")
    op.drop_table("payouts_clawbacks")
    op.drop_table("payouts_batches")
    op.drop_index(
        "uq_payouts_accounts_one_active", table_name="payouts_accounts", postgresql_where=sa.text("status = 'active'")
    )
    op.drop_index(op.f("ix_payouts_accounts_recipient_id"), table_name="payouts_accounts")
    op.drop_index(op.f("ix_payouts_accounts_number_index"), table_name="payouts_accounts")
    op.drop_table("payouts_accounts")
    op.drop_table("payouts_providers")
    op.drop_table("payouts_runs")
