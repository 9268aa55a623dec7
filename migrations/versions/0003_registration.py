"""registration: applicants, identity checks, account tokens, OTPs, rate limits, lists, integrity, ability test,
eligibility decisions

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29 04:03:04.126531
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = ("registration",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "registration_list_imports",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("list_type", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("imported_by", sa.UUID(), nullable=True),
        sa.Column("imported_via", sa.String(length=16), nullable=False),
        sa.Column("file_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_invalid", sa.BigInteger(), nullable=False),
        sa.Column("rows_added", sa.BigInteger(), nullable=False),
        sa.Column("rows_removed", sa.BigInteger(), nullable=False),
        sa.Column("rows_total", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_list_imports")),
    )
    op.create_index(
        op.f("ix_registration_list_imports_list_type"), "registration_list_imports", ["list_type"], unique=False
    )
    op.create_table(
        "registration_rate_limits",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_registration_rate_limits")),
    )
    op.create_table(
        "registration_account_tokens",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_registration_account_tokens_account_id_auth_accounts")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_registration_account_tokens")),
    )
    op.create_index(
        op.f("ix_registration_account_tokens_account_id"), "registration_account_tokens", ["account_id"], unique=False
    )
    op.create_table(
        "registration_applicants",
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("nik", sa.LargeBinary(), nullable=True),
        sa.Column("nik_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("kk", sa.LargeBinary(), nullable=True),
        sa.Column("kk_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("birth_date", sa.LargeBinary(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("full_name", sa.LargeBinary(), nullable=True),
        sa.Column("mother_maiden_name", sa.LargeBinary(), nullable=True),
        sa.Column("ktp_address", sa.LargeBinary(), nullable=True),
        sa.Column("domicile_address", sa.LargeBinary(), nullable=True),
        sa.Column("domicile_province", sa.String(length=2), nullable=True),
        sa.Column("domicile_regency", sa.String(length=4), nullable=True),
        sa.Column("domicile_district", sa.String(length=6), nullable=True),
        sa.Column("education", sa.String(length=16), nullable=True),
        sa.Column("job_status", sa.String(length=24), nullable=True),
        sa.Column("has_disability", sa.Boolean(), nullable=True),
        sa.Column("former_migrant_worker", sa.Boolean(), nullable=True),
        sa.Column("is_citizen", sa.Boolean(), nullable=True),
        sa.Column("declared_student", sa.Boolean(), nullable=True),
        sa.Column("phone", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("phone_verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ktp_photo_path", sa.String(length=255), nullable=True),
        sa.Column("ktp_photo_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("declaration_version", sa.String(length=16), nullable=True),
        sa.Column("declared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_version", sa.String(length=16), nullable=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("identity_status", sa.String(length=24), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("identity_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registration_ip_index", sa.LargeBinary(length=32), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sex IS NULL OR sex IN ('M', 'F')", name=op.f("ck_registration_applicants_sex")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_registration_applicants_account_id_auth_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_applicants")),
        sa.UniqueConstraint("account_id", name=op.f("uq_registration_applicants_account_id")),
        sa.UniqueConstraint("nik_index", name=op.f("uq_registration_applicants_nik_index")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_registration_applicants_phone_index")),
    )
    op.create_index(
        op.f("ix_registration_applicants_domicile_regency"),
        "registration_applicants",
        ["domicile_regency"],
        unique=False,
    )
    op.create_index(op.f("ix_registration_applicants_kk_index"), "registration_applicants", ["kk_index"], unique=False)
    op.create_index(
        op.f("ix_registration_applicants_registration_ip_index_created_at"),
        "registration_applicants",
        ["registration_ip_index", "created_at"],
        unique=False,
    )
    op.create_table(
        "registration_list_entries",
        sa.Column("list_type", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("nik_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("import_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["registration_list_imports.id"],
            name=op.f("fk_registration_list_entries_import_id_registration_list_imports"),
        ),
        sa.PrimaryKeyConstraint("list_type", "source", "nik_index", name=op.f("pk_registration_list_entries")),
    )
    op.create_index(
        op.f("ix_registration_list_entries_nik_index"), "registration_list_entries", ["nik_index"], unique=False
    )
    op.create_table(
        "registration_phone_otps",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=False),
        sa.Column("phone_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("code_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_registration_phone_otps_account_id_auth_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_phone_otps")),
    )
    op.create_index(
        op.f("ix_registration_phone_otps_account_id"), "registration_phone_otps", ["account_id"], unique=False
    )
    op.create_table(
        "eligibility_decisions",
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("context", sa.String(length=32), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("scheme_version", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("reason_codes", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["registration_applicants.id"],
            name=op.f("fk_eligibility_decisions_applicant_id_registration_applicants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eligibility_decisions")),
    )
    op.create_index(
        op.f("ix_eligibility_decisions_applicant_id_decided_at"),
        "eligibility_decisions",
        ["applicant_id", "decided_at"],
        unique=False,
    )
    op.execute(
        "CREATE TRIGGER eligibility_decisions_append_only BEFORE UPDATE OR DELETE ON eligibility_decisions "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.create_table(
        "registration_ability_attempts",
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("wave_ref", sa.String(length=64), nullable=False),
        sa.Column("item_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answers", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("score_verbal", sa.Integer(), nullable=True),
        sa.Column("score_numeric", sa.Integer(), nullable=True),
        sa.Column("score_motivation", sa.Integer(), nullable=True),
        sa.Column("score_total", sa.Integer(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["registration_applicants.id"],
            name=op.f("fk_registration_ability_attempts_applicant_id_registration_applicants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_ability_attempts")),
        sa.UniqueConstraint(
            "applicant_id", "wave_ref", name=op.f("uq_registration_ability_attempts_applicant_id_wave_ref")
        ),
    )
    op.create_table(
        "registration_identity_checks",
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["registration_applicants.id"],
            name=op.f("fk_registration_identity_checks_applicant_id_registration_applicants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_identity_checks")),
    )
    op.create_index(
        op.f("ix_registration_identity_checks_applicant_id"),
        "registration_identity_checks",
        ["applicant_id"],
        unique=False,
    )
    op.create_table(
        "registration_integrity_flags",
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.UUID(), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["registration_applicants.id"],
            name=op.f("fk_registration_integrity_flags_applicant_id_registration_applicants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_integrity_flags")),
        sa.UniqueConstraint("applicant_id", "kind", name=op.f("uq_registration_integrity_flags_applicant_id_kind")),
    )
    op.create_index(
        op.f("ix_registration_integrity_flags_applicant_id"),
        "registration_integrity_flags",
        ["applicant_id"],
        unique=False,
    )
    op.create_table(
        "registration_signals",
        sa.Column("applicant_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"],
            ["registration_applicants.id"],
            name=op.f("fk_registration_signals_applicant_id_registration_applicants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_signals")),
        sa.UniqueConstraint(
            "applicant_id", "kind", "value_index", name=op.f("uq_registration_signals_applicant_id_kind_value_index")
        ),
    )
    op.create_index(
        op.f("ix_registration_signals_kind_value_index"), "registration_signals", ["kind", "value_index"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_registration_signals_kind_value_index"), table_name="registration_signals")
    op.drop_table("registration_signals")
    op.drop_index(op.f("ix_registration_integrity_flags_applicant_id"), table_name="registration_integrity_flags")
    op.drop_table("registration_integrity_flags")
    op.drop_index(op.f("ix_registration_identity_checks_applicant_id"), table_name="registration_identity_checks")
    op.drop_table("registration_identity_checks")
    op.drop_table("registration_ability_attempts")
    op.drop_index(op.f("ix_eligibility_decisions_applicant_id_decided_at"), table_name="eligibility_decisions")
    op.drop_table("eligibility_decisions")
    op.drop_index(op.f("ix_registration_phone_otps_account_id"), table_name="registration_phone_otps")
    op.drop_table("registration_phone_otps")
    op.drop_index(op.f("ix_registration_list_entries_nik_index"), table_name="registration_list_entries")
    op.drop_table("registration_list_entries")
    op.drop_index(
        op.f("ix_registration_applicants_registration_ip_index_created_at"), table_name="registration_applicants"
    )
    op.drop_index(op.f("ix_registration_applicants_kk_index"), table_name="registration_applicants")
    op.drop_index(op.f("ix_registration_applicants_domicile_regency"), table_name="registration_applicants")
    op.drop_table("registration_applicants")
    op.drop_index(op.f("ix_registration_account_tokens_account_id"), table_name="registration_account_tokens")
    op.drop_table("registration_account_tokens")
    op.drop_table("registration_rate_limits")
    op.drop_index(op.f("ix_registration_list_imports_list_type"), table_name="registration_list_imports")
    op.drop_table("registration_list_imports")
