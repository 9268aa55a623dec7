"""training: purchases and vouchers, redeem codes, attendance events, completions, session refunds, ratings,
platform agreements, webhook events and the log of refused partner calls.

Revision ID: 0018_training
Revises: 0017_partner_scopes
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018_training"
down_revision: str | Sequence[str] | None = "0017_partner_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "training_events",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_training_events_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_events")),
    )
    op.create_index(
        op.f("ix_training_events_partner_id_created_at"), "training_events", ["partner_id", "created_at"], unique=False
    )
    op.create_table(
        "training_partner_refusals",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("credential_id", sa.UUID(), nullable=False),
        sa.Column("endpoint", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_training_partner_refusals_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_partner_refusals")),
    )
    op.create_index(
        op.f("ix_training_partner_refusals_partner_id_created_at"),
        "training_partner_refusals",
        ["partner_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "training_platform_agreements",
        sa.Column("platform_id", sa.UUID(), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["auth_partners.id"],
            name=op.f("fk_training_platform_agreements_platform_id_auth_partners"),
        ),
        sa.PrimaryKeyConstraint("platform_id", name=op.f("pk_training_platform_agreements")),
    )
    op.create_table(
        "training_purchases",
        sa.Column("recipient_id", sa.UUID(), nullable=False),
        sa.Column("participant_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("platform_id", sa.UUID(), nullable=False),
        sa.Column("platform_order_id", sa.String(length=100), nullable=False),
        sa.Column("platform_account_index", sa.LargeBinary(length=32), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "otp_sent",
                "confirmed",
                "cancelled",
                "redeemed",
                "completed",
                name="training_purchase_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("otp_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("otp_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("otp_attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("pending_transfer_id", sa.UUID(), nullable=False),
        sa.Column("void_transfer_id", sa.UUID(), nullable=True),
        sa.Column("capture_transfer_id", sa.UUID(), nullable=True),
        sa.Column("voucher_code", sa.String(length=16), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_training_purchases_amount_positive")),
        sa.CheckConstraint("otp_attempts >= 0", name=op.f("ck_training_purchases_otp_attempts_not_negative")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount < amount", name=op.f("ck_training_purchases_refund_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_training_purchases_account_id_auth_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["catalog_courses.id"], name=op.f("fk_training_purchases_course_id_catalog_courses")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["auth_partners.id"], name=op.f("fk_training_purchases_institution_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["auth_partners.id"], name=op.f("fk_training_purchases_platform_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["selection_recipients.id"],
            name=op.f("fk_training_purchases_recipient_id_selection_recipients"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_purchases")),
        sa.UniqueConstraint("pending_transfer_id", name=op.f("uq_training_purchases_pending_transfer_id")),
        sa.UniqueConstraint("voucher_code", name=op.f("uq_training_purchases_voucher_code")),
    )
    op.create_index(op.f("ix_training_purchases_account_id"), "training_purchases", ["account_id"], unique=False)
    op.create_index(op.f("ix_training_purchases_course_id"), "training_purchases", ["course_id"], unique=False)
    op.create_index(
        op.f("ix_training_purchases_institution_id"), "training_purchases", ["institution_id"], unique=False
    )
    op.create_index(
        op.f("ix_training_purchases_participant_id_status"),
        "training_purchases",
        ["participant_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_training_purchases_platform_id_platform_account_index"),
        "training_purchases",
        ["platform_id", "platform_account_index"],
        unique=False,
    )
    op.create_index(
        op.f("ix_training_purchases_status_otp_expires_at"),
        "training_purchases",
        ["status", "otp_expires_at"],
        unique=False,
    )
    op.create_table(
        "training_completions",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("platform_id", sa.UUID(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "accepted", "in_review", "refused", name="training_completion_status", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("review_reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("capture_transfer_id", sa.UUID(), nullable=True),
        sa.Column("gross_amount", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("commission", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("certificate_id", sa.UUID(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.UUID(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "gross_amount >= 0 AND commission >= 0 AND commission <= gross_amount",
            name=op.f("ck_training_completions_amounts"),
        ),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_training_completions_score_range")),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["auth_partners.id"], name=op.f("fk_training_completions_institution_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["auth_partners.id"], name=op.f("fk_training_completions_platform_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["training_purchases.id"],
            name=op.f("fk_training_completions_purchase_id_training_purchases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_completions")),
    )
    op.create_index(
        op.f("ix_training_completions_institution_id_created_at"),
        "training_completions",
        ["institution_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_training_completions_status_decided_at"),
        "training_completions",
        ["status", "decided_at"],
        unique=False,
    )
    op.create_index(
        "uq_training_completions_live",
        "training_completions",
        ["purchase_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'refused'"),
    )
    op.create_table(
        "training_ratings",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("review", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stars >= 1 AND stars <= 5", name=op.f("ck_training_ratings_stars_range")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_training_ratings_account_id_auth_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["catalog_courses.id"], name=op.f("fk_training_ratings_course_id_catalog_courses")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["training_purchases.id"], name=op.f("fk_training_ratings_purchase_id_training_purchases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_ratings")),
        sa.UniqueConstraint("purchase_id", name=op.f("uq_training_ratings_purchase_id")),
    )
    op.create_index(op.f("ix_training_ratings_course_id"), "training_ratings", ["course_id"], unique=False)
    op.create_table(
        "training_redeem_codes",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("training_type", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column(
            "state",
            sa.Enum("valid", "used", "cancelled", name="training_code_state", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["auth_partners.id"], name=op.f("fk_training_redeem_codes_institution_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["training_purchases.id"],
            name=op.f("fk_training_redeem_codes_purchase_id_training_purchases"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["catalog_course_sessions.id"],
            name=op.f("fk_training_redeem_codes_session_id_catalog_course_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_redeem_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_training_redeem_codes_code")),
        sa.UniqueConstraint("purchase_id", "session_id", name=op.f("uq_training_redeem_codes_purchase_id_session_id")),
    )
    op.create_index(op.f("ix_training_redeem_codes_session_id"), "training_redeem_codes", ["session_id"], unique=False)
    op.create_table(
        "training_session_refunds",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("void_transfer_id", sa.UUID(), nullable=False),
        sa.Column("new_pending_transfer_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_training_session_refunds_amount")),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["training_purchases.id"],
            name=op.f("fk_training_session_refunds_purchase_id_training_purchases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_session_refunds")),
        sa.UniqueConstraint(
            "purchase_id", "session_id", name=op.f("uq_training_session_refunds_purchase_id_session_id")
        ),
    )
    op.create_table(
        "training_attendance_events",
        sa.Column("purchase_id", sa.UUID(), nullable=False),
        sa.Column("redeem_code_id", sa.UUID(), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("proof_ok", sa.Boolean(), nullable=False),
        sa.Column("proof_reason", sa.String(length=64), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["training_purchases.id"],
            name=op.f("fk_training_attendance_events_purchase_id_training_purchases"),
        ),
        sa.ForeignKeyConstraint(
            ["redeem_code_id"],
            ["training_redeem_codes.id"],
            name=op.f("fk_training_attendance_events_redeem_code_id_training_redeem_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_attendance_events")),
        sa.UniqueConstraint("redeem_code_id", name=op.f("uq_training_attendance_events_redeem_code_id")),
    )
    op.create_index(
        op.f("ix_training_attendance_events_purchase_id"), "training_attendance_events", ["purchase_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_training_attendance_events_purchase_id"), table_name="training_attendance_events")
    op.drop_table("training_attendance_events")
    op.drop_table("training_session_refunds")
    op.drop_index(op.f("ix_training_redeem_codes_session_id"), table_name="training_redeem_codes")
    op.drop_table("training_redeem_codes")
    op.drop_index(op.f("ix_training_ratings_course_id"), table_name="training_ratings")
    op.drop_table("training_ratings")
    op.drop_index(
        "uq_training_completions_live",
        table_name="training_completions",
        postgresql_where=sa.text("status <> 'refused'"),
    )
    op.drop_index(op.f("ix_training_completions_status_decided_at"), table_name="training_completions")
    op.drop_index(op.f("ix_training_completions_institution_id_created_at"), table_name="training_completions")
    op.drop_table("training_completions")
    op.drop_index(op.f("ix_training_purchases_status_otp_expires_at"), table_name="training_purchases")
    op.drop_index(op.f("ix_training_purchases_platform_id_platform_account_index"), table_name="training_purchases")
    op.drop_index(op.f("ix_training_purchases_participant_id_status"), table_name="training_purchases")
    op.drop_index(op.f("ix_training_purchases_institution_id"), table_name="training_purchases")
    op.drop_index(op.f("ix_training_purchases_course_id"), table_name="training_purchases")
    op.drop_index(op.f("ix_training_purchases_account_id"), table_name="training_purchases")
    op.drop_table("training_purchases")
    op.drop_table("training_platform_agreements")
    op.drop_index(op.f("ix_training_partner_refusals_partner_id_created_at"), table_name="training_partner_refusals")
    op.drop_table("training_partner_refusals")
    op.drop_index(op.f("ix_training_events_partner_id_created_at"), table_name="training_events")
    op.drop_table("training_events")
