"""certificates: signing keys (public halves) and issued certificates, with the status-list index sequence.

Revision ID: 0014_certificates
Revises: 0010_ledger
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_certificates"
down_revision: str | Sequence[str] | None = "0010_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("certificates_status_index_seq", start=0, minvalue=0)))
    op.create_table(
        "certificates_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("public_key_multibase", sa.String(length=64), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_keys")),
        sa.UniqueConstraint("public_key_multibase", name=op.f("uq_certificates_keys_public_key_multibase")),
    )
    op.create_table(
        "certificates_certificates",
        sa.Column("completion_id", sa.UUID(), nullable=False),
        sa.Column("recipient_id", sa.UUID(), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=True),
        sa.Column("holder_name", sa.LargeBinary(), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=True),
        sa.Column("course_title", sa.Text(), nullable=False),
        sa.Column("institution_name", sa.Text(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_index", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("proof_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("proof_value", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 0 AND 100", name=op.f("ck_certificates_certificates_score_range")),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)",
            name=op.f("ck_certificates_certificates_revoked_with_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["certificates_keys.id"], name=op.f("fk_certificates_certificates_key_id_certificates_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates_certificates")),
        sa.UniqueConstraint("completion_id", name=op.f("uq_certificates_certificates_completion_id")),
        sa.UniqueConstraint("status_index", name=op.f("uq_certificates_certificates_status_index")),
    )
    op.create_index(
        "ix_certificates_certificates_recipient_id", "certificates_certificates", ["recipient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_certificates_certificates_recipient_id", table_name="certificates_certificates")
    op.drop_table("certificates_certificates")
    op.drop_table("certificates_keys")
    op.execute(sa.schema.DropSequence(sa.Sequence("certificates_status_index_seq")))
