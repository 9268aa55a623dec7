"""partners: organisations' profiles (legal entity, NIB, address, provinces reached, owner type), contacts,
document references, trainers, the accounts that work for them, and the reason of the last status change
(designated, suspended, delisted).

Revision ID: 0019_partner_profiles
Revises: 0018_training
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019_partner_profiles"
down_revision: str | Sequence[str] | None = "0018_training"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _partner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["partner_id"], ["auth_partners.id"], name=op.f(f"fk_{table}_partner_id_auth_partners")
    )


def upgrade() -> None:
    op.add_column("auth_partners", sa.Column("status_reason", sa.String(length=500), server_default="", nullable=False))
    op.create_table(
        "partner_profiles",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("legal_name", sa.String(length=200), nullable=False),
        sa.Column("registration_number", sa.String(length=32), nullable=False),
        sa.Column("address", sa.LargeBinary(), nullable=False),
        sa.Column("provinces", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "owner_type",
            sa.Enum(
                "private",
                "government",
                "university",
                "association",
                "other",
                name="partner_owner_type",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.UUID(), nullable=True),
        _partner_fk("partner_profiles"),
        sa.PrimaryKeyConstraint("partner_id", name=op.f("pk_partner_profiles")),
    )
    op.create_table(
        "partner_contacts",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("email", sa.LargeBinary(), nullable=False),
        sa.Column("phone", sa.LargeBinary(), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _partner_fk("partner_contacts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_contacts")),
    )
    op.create_index(op.f("ix_partner_contacts_partner_id"), "partner_contacts", ["partner_id"], unique=False)
    op.create_table(
        "partner_documents",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("added_by", sa.UUID(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _partner_fk("partner_documents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_documents")),
    )
    op.create_index(op.f("ix_partner_documents_partner_id"), "partner_documents", ["partner_id"], unique=False)
    op.create_table(
        "partner_trainers",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.LargeBinary(), nullable=False),
        sa.Column("qualification", sa.String(length=300), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _partner_fk("partner_trainers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_trainers")),
    )
    op.create_index(op.f("ix_partner_trainers_partner_id"), "partner_trainers", ["partner_id"], unique=False)
    op.create_table(
        "partner_members",
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column(
            "role", sa.Enum("admin", "staff", name="partner_member_role", native_enum=False, length=16), nullable=False
        ),
        sa.Column("added_by", sa.UUID(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["auth_accounts.id"], name=op.f("fk_partner_members_account_id_auth_accounts")
        ),
        _partner_fk("partner_members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_members")),
    )
    op.create_index(op.f("ix_partner_members_partner_id"), "partner_members", ["partner_id"], unique=False)
    op.create_index(
        "uq_partner_members_active_account",
        "partner_members",
        ["account_id"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_partner_members_active_account", table_name="partner_members")
    op.drop_index(op.f("ix_partner_members_partner_id"), table_name="partner_members")
    op.drop_table("partner_members")
    op.drop_index(op.f("ix_partner_trainers_partner_id"), table_name="partner_trainers")
    op.drop_table("partner_trainers")
    op.drop_index(op.f("ix_partner_documents_partner_id"), table_name="partner_documents")
    op.drop_table("partner_documents")
    op.drop_index(op.f("ix_partner_contacts_partner_id"), table_name="partner_contacts")
    op.drop_table("partner_contacts")
    op.drop_table("partner_profiles")
    op.drop_column("auth_partners", "status_reason")
