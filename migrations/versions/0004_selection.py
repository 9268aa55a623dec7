"""selection: waves, quotas, entries, lottery draws and results, recipients

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("selection",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "waves_waves",
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "open",
                "closed",
                "committed",
                "drawn",
                "announced",
                name="waves_state",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("scheme_name", sa.String(length=64), nullable=False),
        sa.Column("scheme_hash", sa.String(length=64), nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total_quota", sa.Integer(), nullable=False),
        sa.Column(
            "stratum_level",
            sa.Enum("province", "regency", name="waves_stratum_level", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("provinces", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("priority_tiers", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("quota_method", sa.String(length=32), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("eligible_count", sa.Integer(), nullable=True),
        sa.Column("ineligible_count", sa.Integer(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("closes_at > opens_at", name=op.f("ck_waves_waves_closes_after_opening")),
        sa.CheckConstraint("total_quota >= 0", name=op.f("ck_waves_waves_total_quota_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves_waves")),
        sa.UniqueConstraint("number", name=op.f("uq_waves_waves_number")),
    )
    op.create_table(
        "selection_draws",
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("folder", sa.String(length=500), nullable=False),
        sa.Column("eligible_count", sa.BigInteger(), nullable=False),
        sa.Column("merkle_root", sa.String(length=64), nullable=False),
        sa.Column("randomness_source", sa.String(length=200), nullable=False),
        sa.Column("randomness_reference", sa.String(length=200), nullable=False),
        sa.Column("commitment_sha256", sa.String(length=64), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seed_value", sa.String(length=1024), nullable=True),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("results_sha256", sa.String(length=64), nullable=True),
        sa.Column("selected_count", sa.BigInteger(), nullable=True),
        sa.Column("fairness", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("fairness_ok", sa.Boolean(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("announced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_selection_draws_wave_id_waves_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", name=op.f("pk_selection_draws")),
    )
    op.create_table(
        "selection_recipients",
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("kk_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("card_number", sa.LargeBinary(), nullable=False),
        sa.Column("card_number_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("card_last4", sa.String(length=4), nullable=False),
        sa.Column("scheme_name", sa.String(length=64), nullable=False),
        sa.Column("training_balance", sa.BigInteger(), nullable=False),
        sa.Column("funding_transfer_id", sa.UUID(), nullable=False),
        sa.Column("funded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_purchase_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "revoked", name="selection_recipient_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_selection_recipients_account_id_auth_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_selection_recipients_wave_id_waves_waves")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_recipients")),
        sa.UniqueConstraint("applicant_id", name=op.f("uq_selection_recipients_applicant_id")),
        sa.UniqueConstraint("card_number_index", name=op.f("uq_selection_recipients_card_number_index")),
        sa.UniqueConstraint("entry_hash", name=op.f("uq_selection_recipients_entry_hash")),
        sa.UniqueConstraint("funding_transfer_id", name=op.f("uq_selection_recipients_funding_transfer_id")),
    )
    op.create_index(op.f("ix_selection_recipients_account_id"), "selection_recipients", ["account_id"], unique=False)
    op.create_index(op.f("ix_selection_recipients_kk_index"), "selection_recipients", ["kk_index"], unique=False)
    op.create_index(op.f("ix_selection_recipients_wave_id"), "selection_recipients", ["wave_id"], unique=False)
    op.create_table(
        "selection_results",
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("stratum", sa.String(length=4), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "outcome", sa.Enum("selected", "waitlist", name="selection_outcome", native_enum=False), nullable=False
        ),
        sa.Column("probability_num", sa.Integer(), nullable=False),
        sa.Column("probability_den", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "selected",
                "waitlist",
                "disqualified",
                "promoted",
                name="selection_result_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "probability_den > 0 AND probability_num >= 0", name=op.f("ck_selection_results_probability")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_selection_results_wave_id_waves_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", "entry_hash", name=op.f("pk_selection_results")),
    )
    op.create_table(
        "waves_entries",
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("stratum", sa.String(length=4), nullable=False),
        sa.Column("regency", sa.String(length=4), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_secret", sa.LargeBinary(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "joined",
                "eligible",
                "ineligible",
                "recipient",
                "not_selected",
                name="waves_entry_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("ineligible_reason", sa.String(length=64), nullable=True),
        sa.Column("decision_ref", sa.String(length=64), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_waves_entries_account_id_auth_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_waves_entries_wave_id_waves_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waves_entries")),
        sa.UniqueConstraint("wave_id", "applicant_id", name=op.f("uq_waves_entries_wave_id_applicant_id")),
        sa.UniqueConstraint("wave_id", "entry_hash", name=op.f("uq_waves_entries_wave_id_entry_hash")),
    )
    op.create_index(op.f("ix_waves_entries_account_id"), "waves_entries", ["account_id"], unique=False)
    op.create_index(op.f("ix_waves_entries_applicant_id"), "waves_entries", ["applicant_id"], unique=False)
    op.create_index(op.f("ix_waves_entries_wave_id_status"), "waves_entries", ["wave_id", "status"], unique=False)
    op.create_index(
        "uq_waves_entries_one_active_wave",
        "waves_entries",
        ["applicant_id"],
        unique=True,
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "waves_quotas",
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("stratum", sa.String(length=4), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.CheckConstraint("quota >= 0", name=op.f("ck_waves_quotas_quota_not_negative")),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_waves_quotas_wave_id_waves_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", "stratum", name=op.f("pk_waves_quotas")),
    )


def downgrade() -> None:
    op.drop_table("waves_quotas")
    op.drop_index("uq_waves_entries_one_active_wave", table_name="waves_entries", postgresql_where=sa.text("active"))
    op.drop_index(op.f("ix_waves_entries_wave_id_status"), table_name="waves_entries")
    op.drop_index(op.f("ix_waves_entries_applicant_id"), table_name="waves_entries")
    op.drop_index(op.f("ix_waves_entries_account_id"), table_name="waves_entries")
    op.drop_table("waves_entries")
    op.drop_table("selection_results")
    op.drop_index(op.f("ix_selection_recipients_wave_id"), table_name="selection_recipients")
    op.drop_index(op.f("ix_selection_recipients_kk_index"), table_name="selection_recipients")
    op.drop_index(op.f("ix_selection_recipients_account_id"), table_name="selection_recipients")
    op.drop_table("selection_recipients")
    op.drop_table("selection_draws")
    op.drop_table("waves_waves")
