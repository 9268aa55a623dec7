"""partners: partner organisations, credentials and their encrypted signing keys; signatures seen recently.

Revision ID: 0008_partners
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_partners"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_partners",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "ministry",
                "platform",
                "institution",
                "payment_partner",
                name="auth_partner_role",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", name="auth_partner_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_auth_partners_name")),
    )
    op.create_table(
        "auth_partner_credentials",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("client_code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_auth_partner_credentials_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_partner_credentials")),
        sa.UniqueConstraint("client_code", name=op.f("uq_auth_partner_credentials_client_code")),
    )
    op.create_index(
        op.f("ix_auth_partner_credentials_partner_id"), "auth_partner_credentials", ["partner_id"], unique=False
    )
    op.create_table(
        "auth_partner_keys",
        sa.Column("credential_id", sa.UUID(), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("issued_by", sa.UUID(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.UUID(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["auth_partner_credentials.id"],
            name=op.f("fk_auth_partner_keys_credential_id_auth_partner_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_partner_keys")),
    )
    op.create_index(op.f("ix_auth_partner_keys_credential_id"), "auth_partner_keys", ["credential_id"], unique=False)
    op.create_table(
        "partner_seen_signatures",
        sa.Column("credential_id", sa.UUID(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("credential_id", "signature", name=op.f("pk_partner_seen_signatures")),
    )
    op.create_index(
        op.f("ix_partner_seen_signatures_expires_at"), "partner_seen_signatures", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_seen_signatures_expires_at"), table_name="partner_seen_signatures")
    op.drop_table("partner_seen_signatures")
    op.drop_index(op.f("ix_auth_partner_keys_credential_id"), table_name="auth_partner_keys")
    op.drop_table("auth_partner_keys")
    op.drop_index(op.f("ix_auth_partner_credentials_partner_id"), table_name="auth_partner_credentials")
    op.drop_table("auth_partner_credentials")
    op.drop_table("auth_partners")
